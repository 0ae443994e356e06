"""The outbox: every committed balance change is published, even if its process dies.

A change's outbox row is written in the transaction of its journal entry. The
process that committed it publishes at once and notes the row as published
(`Database.published_outbox_ids`); every process marks what it noted in one
statement a batch, a fraction of a second later (`flush_published`), not in a
transaction of its own per change. A relay publishes rows left unmarked for longer
than a grace period (their process died before marking them, or the broker was down)
and prunes old marked rows. Subscribers drop what they have seen already, so
publishing twice is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.events import BalanceChanged
from persistence import driver
from persistence.analytics import inbox
from persistence.base import table_of
from persistence.database import Database
from persistence.journal import posted_entries
from persistence.models import JournalEntryRow, OutboxRow
from persistence.with_children import InsertWithChildren, together

KEEP_PUBLISHED_FOR = timedelta(hours=1)
# Ids a marking statement names, well under the 32,767 parameters asyncpg and SQLite allow
# (a bulk award's script may publish 100,000 changes before its Database closes).
MARKED_A_STATEMENT = 10_000


INSERT_OUTBOX_ROWS = insert(table_of(OutboxRow)).returning(
    OutboxRow.id, sort_by_parameter_order=True
)
OUTBOX_WITH_INBOX = InsertWithChildren(
    table_of(OutboxRow), ("entry_id", "created_at"), [inbox.INBOX_ROWS]
)


async def add(
    session: AsyncSession,
    events: Sequence[BalanceChanged],
    now: datetime,
    inbox_rows: list[dict[str, str]],
) -> list[int]:
    """The changes' outbox rows, and the analytics inbox rows of the same commit: one
    statement on PostgreSQL for one change (persistence/with_children.py), else two."""
    rows = [{"entry_id": event.posted.id, "created_at": now} for event in events]
    if len(rows) == 1 and together(session):
        found = await driver.first(
            session, OUTBOX_WITH_INBOX.statement, OUTBOX_WITH_INBOX.values(rows[0], [inbox_rows])
        )
        assert found is not None
        return [found["id"]]
    await inbox.write(session, inbox_rows)
    return [row["id"] for row in await driver.rows_of_each(session, INSERT_OUTBOX_ROWS, rows)]


def note_published(database: Database, outbox_ids: Sequence[int]) -> None:
    """Rows this process has published, to be marked with the next batch."""
    database.published_outbox_ids.extend(outbox_ids)


async def flush_published(database: Database, now: datetime) -> int:
    """Mark every row noted as published since the last flush, in one statement. Should it
    fail, the rows stay unmarked and the relay publishes them again: harmless."""
    outbox_ids = database.published_outbox_ids[:]
    del database.published_outbox_ids[: len(outbox_ids)]
    if outbox_ids:
        async with database.writing() as session:
            for start in range(0, len(outbox_ids), MARKED_A_STATEMENT):
                await _mark(session, outbox_ids[start : start + MARKED_A_STATEMENT], now)
            await session.commit()
    return len(outbox_ids)


async def _mark(session: AsyncSession, outbox_ids: Sequence[int], now: datetime) -> None:
    await session.execute(
        update(OutboxRow).where(OutboxRow.id.in_(outbox_ids)).values(published_at=now)
    )


async def overdue(
    session: AsyncSession, older_than: datetime, limit: int
) -> tuple[list[int], list[BalanceChanged]]:
    """Unpublished changes older than the grace period, oldest first, locked for this relay."""
    rows = (
        await session.execute(
            select(OutboxRow.id, OutboxRow.entry_id)
            .where(OutboxRow.published_at.is_(None), OutboxRow.created_at < older_than)
            .order_by(OutboxRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not rows:
        return [], []
    outbox_ids = [outbox_id for outbox_id, _ in rows]
    entries = select(JournalEntryRow).where(
        JournalEntryRow.id.in_([entry_id for _, entry_id in rows])
    )
    posted = await posted_entries(session, entries.order_by(JournalEntryRow.id))
    return outbox_ids, [BalanceChanged(item) for item in posted]


async def settle(session: AsyncSession, outbox_ids: Sequence[int], now: datetime) -> None:
    """Mark the relayed rows, and forget rows published long ago."""
    await _mark(session, outbox_ids, now)
    await session.execute(
        delete(OutboxRow).where(OutboxRow.published_at < now - KEEP_PUBLISHED_FOR)
    )
