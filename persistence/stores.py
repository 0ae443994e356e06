"""The stores of the chain."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import DuplicateStore
from domain.stores import Store
from persistence.models import StoreRow
from persistence.programme_cache import ProgrammeInTransaction


class SqlAlchemyStoreRepository:
    def __init__(self, session: AsyncSession, programme: ProgrammeInTransaction) -> None:
        self.session = session
        self._programme = programme

    async def get(self, store_id: str) -> Store | None:
        """From the process's cache of the programme, checked in this transaction."""
        return (await self._programme.programme()).stores.get(store_id)

    async def add(self, store: Store) -> None:
        if await self.session.get(StoreRow, store.id) is not None:
            raise DuplicateStore(f"store {store.id!r} exists already", ("input", "id"))
        self.session.add(StoreRow(id=store.id, name=store.name, created_at=datetime.now(UTC)))
        try:
            await self.session.flush()
        except IntegrityError:
            raise DuplicateStore(f"store {store.id!r} exists already", ("input", "id")) from None
