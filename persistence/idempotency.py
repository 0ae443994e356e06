"""Idempotency keys and what each produced: an entry, or a refusal to repeat."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import DomainError
from domain.idempotency import StoredOutcome
from persistence import driver
from persistence.base import table_of
from persistence.database import dialect_of, insert_or_ignore
from persistence.models import IdempotencyKeyRow
from persistence.records import record_of

COMPLETE = (
    update(IdempotencyKeyRow)
    .where(IdempotencyKeyRow.key == bindparam("claimed_key"))
    .values(entry_id=bindparam("entry_id"))
)


@cache
def _claim(dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING the key, built once per dialect, on the
    table (Core), not the ORM entity: it is a movement's first statement, which SQLAlchemy
    runs (persistence/driver.py), and the ORM's bulk INSERT and its result cost more."""
    keys = table_of(IdempotencyKeyRow)
    return (
        insert_or_ignore(dialect, keys)
        .values(
            key=bindparam("key"),
            fingerprint=bindparam("fingerprint"),
            created_at=bindparam("created_at"),
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(keys.c.key)
    )


def _claim_statement(session: AsyncSession) -> Any:
    return _claim(dialect_of(session))


class SqlAlchemyIdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, key: str, fingerprint: str) -> StoredOutcome | None:
        claimed = await driver.first(
            self.session,
            _claim_statement(self.session),
            {"key": key, "fingerprint": fingerprint, "created_at": datetime.now(UTC)},
        )
        if claimed is not None:
            return None
        query = select(IdempotencyKeyRow).where(IdempotencyKeyRow.key == key)
        row = (await self.session.execute(query)).scalar_one()
        field = None if row.refusal_field is None else tuple(row.refusal_field.split("."))
        return record_of(StoredOutcome, row, refusal_field=field)

    async def complete(self, key: str, entry_id: int) -> None:
        await driver.rows(self.session, COMPLETE, {"claimed_key": key, "entry_id": entry_id})

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
