"""Use cases of the stores: the chain's own store codes."""

from __future__ import annotations

from domain.errors import InvalidInput
from domain.ports import UnitOfWork
from domain.stores import Store


async def create_store(uow: UnitOfWork, store: Store) -> Store:
    async with uow:
        await uow.stores.add(store)
        await uow.commit()
    return store


async def require_store(uow: UnitOfWork, store_id: str) -> None:
    if await uow.stores.get(store_id) is None:
        raise InvalidInput(f"unknown store {store_id!r}", ("input", "storeId"))
