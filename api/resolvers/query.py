"""Queries: thin resolvers over the read side."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import ClientError
from api.permissions import GUARDED, require_store
from api.resolvers.programme import ProgrammeQueries
from api.types.bulk_awards import BulkAward
from api.types.customers import Customer
from api.types.inputs import CustomerLookup, PreviewEarnInput
from api.types.payloads import EarnPreview, Store
from api.types.programme import Reward
from domain import sale_services
from domain.errors import DomainError
from persistence import programme_queries, queries


@strawberry.type
class Query(ProgrammeQueries):
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
        context = info.context
        now = context.now()
        try:
            require_store(info, str(input.store_id))
            preview = await sale_services.preview_earn(
                context.uow(read_only=True), input.to_query(now), context.terms()
            )
        except DomainError as error:
            raise ClientError.of(error) from None
        return EarnPreview.of(preview, now)

    @strawberry.field(
        description="The rewards catalog. activeOnly: only those redeemable now (in the "
        "given store, when storeId is given).",
        permission_classes=GUARDED,
    )
    async def rewards(
        self, info: Info, active_only: bool | None = True, store_id: strawberry.ID | None = None
    ) -> list[Reward]:
        now = info.context.now()
        async with info.context.database.reading() as session:
            found = await programme_queries.rewards(
                session,
                active_only=active_only is not False,
                at=now,
                store_id=None if store_id is None else str(store_id),
            )
        return [Reward.of(reward, now) for reward in found]

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
