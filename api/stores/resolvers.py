"""The stores feature's fields: list the stores, register one."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.mutations import mutation
from api.permissions import GUARDED
from api.stores.types import CreateStoreInput, Store, StorePayload
from domain.use_cases import stores
from persistence.queries.stores import stores as all_stores


@strawberry.type
class StoreQueries:
    @strawberry.field(permission_classes=GUARDED)
    async def stores(self, info: Info) -> list[Store]:
        async with info.context.database.reading() as session:
            found = await all_stores(session)
        return [Store.of(store) for store in found]


@strawberry.type
class StoreMutations:
    @mutation('Register a store; its id is the chain\'s own store code (e.g. "S001"). Admin only.')
    async def create_store(self, info: Info, input: CreateStoreInput) -> StorePayload:
        store = await stores.create_store(info.context.uow(), input.to_store())
        return StorePayload(store=Store.of(store))
