"""The journal of a range of days read for the exports, in one snapshot, a batch of entries
at a time: gathered into the GL journals, or written out entry by entry for auditors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.gl_export import GlBook, GlJournal
from domain.ledger import PostedEntry
from domain.valuation import Valuation, posting
from persistence.journal import posted_entries
from persistence.models import JournalEntryRow

ENTRIES_A_BATCH = 5_000


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone)


async def entries_between(
    session: AsyncSession, start: datetime, end: datetime
) -> AsyncIterator[list[PostedEntry]]:
    """The entries that happened in [start, end), in id order, with their lines (read the
    session in one snapshot first: persistence.database.one_snapshot)."""
    after = 0
    while True:
        batch = await posted_entries(
            session,
            select(JournalEntryRow)
            .where(
                JournalEntryRow.occurred_at >= start,
                JournalEntryRow.occurred_at < end,
                JournalEntryRow.id > after,
            )
            .order_by(JournalEntryRow.id)
            .limit(ENTRIES_A_BATCH),
        )
        if not batch:
            return
        yield batch
        after = batch[-1].id


async def gl_journals(
    session: AsyncSession, days: tuple[date, date], zone: ZoneInfo, books: Valuation
) -> list[GlJournal]:
    """The GL journals of the days from the first to the last (exclusive), in the zone."""
    return (await gl_book(session, days, zone, books)).journals()


async def gl_book(
    session: AsyncSession, days: tuple[date, date], zone: ZoneInfo, books: Valuation
) -> GlBook:
    """The postings of those days gathered, exact."""
    start, end = (local_midnight(day, zone) for day in days)
    book = GlBook()
    async for batch in entries_between(session, start, end):
        for posted in batch:
            entry = posted.entry
            day = entry.movement.occurred_at.astimezone(zone).date()
            book.add(day, entry.movement.store_id, posting(entry, books))
    return book
