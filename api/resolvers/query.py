"""Queries: thin resolvers over the read side."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import ClientError
from api.permissions import GUARDED, require_store
from api.types.bulk_awards import BulkAward
from api.types.customers import Customer
from api.types.inputs import CustomerLookup, PreviewEarnInput
from api.types.payloads import EarnPreview, Reward, Store
from domain import services
from domain.errors import DomainError
from persistence import queries


@strawberry.type
class Query:
    @strawberry.field(
        description="Look a customer up by exactly one identifier; null when none matches.",
        permission_classes=GUARDED,
    )
    async def customer(self, info: Info, lookup: CustomerLookup) -> Customer | None:
        try:
            identifier, value = lookup.identifier(info.context.settings.default_phone_region)
        except DomainError as error:
            raise ClientError.of(error) from None
        async with info.context.database.reading() as session:
            view = await queries.customer_by(session, identifier, value)
        return None if view is None else Customer.of(view)

    @strawberry.field(
        description="Points a sale would earn and the rewards it would bring within reach. "
        "Changes nothing.",
        permission_classes=GUARDED,
    )
    async def preview_earn(self, info: Info, input: PreviewEarnInput) -> EarnPreview:
        base_rate = info.context.settings.base_points_per_unit
        try:
            require_store(info, str(input.store_id))
            preview = await services.preview_earn(
                info.context.uow(read_only=True), input.to_query(), base_rate
            )
        except DomainError as error:
            raise ClientError.of(error) from None
        return EarnPreview.of(preview)

    @strawberry.field(description="The rewards catalog.", permission_classes=GUARDED)
    async def rewards(self, info: Info, active_only: bool | None = True) -> list[Reward]:
        async with info.context.database.reading() as session:
            found = await queries.rewards(session, active_only=active_only is not False)
        return [Reward.of(reward) for reward in found]

    @strawberry.field(description="A bulk award and its progress.", permission_classes=GUARDED)
    async def bulk_award(self, info: Info, id: strawberry.ID) -> BulkAward | None:
        async with info.context.database.reading() as session:
            job = await queries.bulk_award(session, str(id))
        return None if job is None else BulkAward.of(job)

    @strawberry.field(permission_classes=GUARDED)
    async def stores(self, info: Info) -> list[Store]:
        async with info.context.database.reading() as session:
            found = await queries.stores(session)
        return [Store.of(store) for store in found]
