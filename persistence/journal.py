"""The points journal: entries and their lines, posted set-based, read back as posted."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ledger import JournalEntry, JournalLine, Movement, PostedEntry, TransactionKind
from domain.periods import refuse_closed
from persistence import driver, lots
from persistence.analytics import inbox
from persistence.analytics.inbox import Counted
from persistence.base import table_of
from persistence.models import JournalEntryRow, JournalLineRow
from persistence.periods import closed_until
from persistence.programme_cache import ReadUnderLock
from persistence.records import actor_columns, actor_of, columns_of, record_of, values_of
from persistence.with_children import Children, InsertWithChildren, together

INSERT_ENTRIES = insert(table_of(JournalEntryRow)).returning(
    JournalEntryRow.id, sort_by_parameter_order=True
)
INSERT_LINES = insert(table_of(JournalLineRow))


@cache
def _entry_with_lines(entry_columns: tuple[str, ...]) -> InsertWithChildren:
    """An entry with its lines in one statement, built once for each set of columns."""
    lines = Children(table_of(JournalLineRow), "entry_id", ("account", "amount"))
    return InsertWithChildren(table_of(JournalEntryRow), entry_columns, [lines])


class SqlAlchemyJournalRepository:
    def __init__(self, session: AsyncSession, seen: ReadUnderLock | None = None) -> None:
        self.session = session
        # How the books stand, read once per unit of work (by the customer's lock statement,
        # or here): it is read under the accounts' locks, which a close waits for, so it
        # cannot change before this one commits.
        self._seen = seen or ReadUnderLock()

    async def add(self, entry: JournalEntry) -> PostedEntry:
        return (await self.add_many([entry]))[0]

    async def add_many(self, entries: Sequence[JournalEntry]) -> list[PostedEntry]:
        """Entries in the order given, their lines, and the lots they open or spend; none
        dated in a closed period (read under the accounts' locks: persistence/periods.py)."""
        if not entries:
            return []
        refuse_closed(await self._closed_until(), entries)
        if len(entries) == 1 and together(self.session):
            posted = [await self._add_with_lines(entries[0])]
        else:
            posted = await self._add_then_lines(entries)
        await lots.follow(self.session, posted)
        inbox.enqueue_at_commit(self.session, Counted.ENTRY, [item.id for item in posted])
        return posted

    async def _add_with_lines(self, entry: JournalEntry) -> PostedEntry:
        """One entry and its lines in one statement (persistence/with_children.py)."""
        values = _entry_values(entry)
        combined = _entry_with_lines(tuple(values))
        lines = [{"account": line.account, "amount": line.amount} for line in entry.lines]
        inserted = await driver.first(
            self.session, combined.statement, combined.values(values, [lines])
        )
        assert inserted is not None
        return PostedEntry(inserted["id"], entry)

    async def _add_then_lines(self, entries: Sequence[JournalEntry]) -> list[PostedEntry]:
        """The entries in one statement (SQLAlchemy's insertmanyvalues pages a batch), then
        all their lines in another."""
        inserted = await driver.rows_of_each(
            self.session, INSERT_ENTRIES, [_entry_values(e) for e in entries]
        )
        posted = [
            PostedEntry(row["id"], entry) for row, entry in zip(inserted, entries, strict=True)
        ]
        lines = [
            {"entry_id": item.id, "account": line.account, "amount": line.amount}
            for item in posted
            for line in item.entry.lines
        ]
        await driver.execute_many(self.session, INSERT_LINES, lines)
        return posted

    async def _closed_until(self) -> datetime | None:
        if self._seen.closed_until is None:
            self._seen.closed_until = (await closed_until(self.session),)
        return self._seen.closed_until[0]

    async def get(self, entry_id: int) -> PostedEntry | None:
        found = await posted_entries(
            self.session, select(JournalEntryRow).where(JournalEntryRow.id == entry_id)
        )
        return found[0] if found else None


async def posted_entries(session: AsyncSession, query: Any) -> list[PostedEntry]:
    """The entries a select of JournalEntryRow finds, in its order, each with its lines:
    two statements however many entries."""
    rows = list((await session.execute(query)).scalars())
    lines: defaultdict[int, list[JournalLine]] = defaultdict(list)
    if rows:
        found = await session.execute(
            select(JournalLineRow)
            .where(JournalLineRow.entry_id.in_([row.id for row in rows]))
            .order_by(JournalLineRow.id)
        )
        for line in found.scalars():
            lines[line.entry_id].append(JournalLine(line.account, line.amount))
    return [posted_of(row, lines[row.id]) for row in rows]


def _entry_values(entry: JournalEntry) -> dict[str, Any]:
    movement = entry.movement
    return columns_of(
        entry,
        left_out=("movement", "lines"),
        kind=entry.kind.value,
        **columns_of(movement, left_out=("actor", "recorded_at")),
        created_at=movement.recorded,
        **actor_columns("recorded_by", movement.actor),
    )


def posted_of(row: JournalEntryRow, lines: Sequence[JournalLine]) -> PostedEntry:
    """An entry as stored, from its row and its lines in id order."""
    movement = record_of(
        Movement, row, recorded_at=row.created_at, actor=actor_of(row, "recorded_by")
    )
    # As stored: a damaged entry is read, for the checks to report (JournalEntry.as_stored).
    entry = JournalEntry.as_stored(
        **values_of(
            JournalEntry,
            row,
            kind=TransactionKind(row.kind),
            movement=movement,
            lines=tuple(lines),
        )
    )
    return PostedEntry(row.id, entry)
