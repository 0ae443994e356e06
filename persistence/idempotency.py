"""Idempotency keys and what each produced: an entry, or a refusal to repeat."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import DomainError
from domain.idempotency import StoredOutcome
from persistence.database import insert_or_ignore
from persistence.models import IdempotencyKeyRow
from persistence.records import record_of


class SqlAlchemyIdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, key: str, fingerprint: str) -> StoredOutcome | None:
        claimed = await self.session.execute(
            insert_or_ignore(self.session, IdempotencyKeyRow)
            .values(key=key, fingerprint=fingerprint, created_at=datetime.now(UTC))
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(IdempotencyKeyRow.key)
        )
        if claimed.first() is not None:
            return None
        query = select(IdempotencyKeyRow).where(IdempotencyKeyRow.key == key)
        row = (await self.session.execute(query)).scalar_one()
        field = None if row.refusal_field is None else tuple(row.refusal_field.split("."))
        return record_of(StoredOutcome, row, refusal_field=field)

    async def complete(self, key: str, entry_id: int) -> None:
        await self._set(key, entry_id=entry_id)

    async def refuse(self, key: str, error: DomainError) -> None:
        await self._set(
            key,
            refusal_code=error.code.value,
            refusal_message=error.message[:300],
            refusal_field=None if error.field is None else ".".join(error.field)[:200],
        )

    async def _set(self, key: str, **values: Any) -> None:
        await self.session.execute(
            update(IdempotencyKeyRow).where(IdempotencyKeyRow.key == key).values(**values)
        )
