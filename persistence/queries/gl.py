"""The journal of a range of days read for the exports, in one snapshot, a batch of entries
at a time: gathered into the GL journals in the order the entries happened, or written out
entry by entry, in id order, for auditors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.breakage import BreakageInAdvance, MoneyPosting
from domain.gl_export import GlBook, GlJournal
from domain.ledger import PostedEntry
from domain.valuation import Valuation
from persistence.journal import posted_entries
from persistence.models import JournalEntryRow
from persistence.queries.breakage import totals_before

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


async def entries_in_order(
    session: AsyncSession, start: datetime, end: datetime
) -> AsyncIterator[list[PostedEntry]]:
    """The entries that happened in [start, end) in the order they happened (then by id),
    with their lines, a batch at a time (read the session in one snapshot first)."""
    happened = JournalEntryRow.occurred_at
    after: tuple[datetime, int] | None = None
    while True:
        query = select(JournalEntryRow).where(happened >= start, happened < end)
        if after is not None:
            moment, last = after
            query = query.where(
                or_(happened > moment, and_(happened == moment, JournalEntryRow.id > last))
            )
        order = query.order_by(happened, JournalEntryRow.id).limit(ENTRIES_A_BATCH)
        batch = await posted_entries(session, order)
        if not batch:
            return
        yield batch
        after = batch[-1].entry.movement.occurred_at, batch[-1].id


async def gl_journals(
    session: AsyncSession,
    days: tuple[date, date],
    zone: ZoneInfo,
    books: Valuation,
    horizon: datetime,
) -> list[GlJournal]:
    """The GL journals of the days from the first to the last (exclusive), in the zone."""
    return (await gl_book(session, days, zone, books, horizon)).journals()


async def gl_book(
    session: AsyncSession,
    days: tuple[date, date],
    zone: ZoneInfo,
    books: Valuation,
    horizon: datetime,
) -> GlBook:
    """The postings of those days gathered, exact: each entry's, in the order they happened
    (the breakage recognised in advance moves with each), and any change of the expected
    breakage rate's (`horizon`: before when nothing can be recorded any more)."""
    start, end = (local_midnight(day, zone) for day in days)
    breakage = BreakageInAdvance(books, start, await totals_before(session, start, books, horizon))
    book = GlBook()
    async for batch in entries_in_order(session, start, end):
        for posted in batch:
            _add(book, breakage.postings(posted.entry), zone)
    _add(book, breakage.changes_before(end), zone)
    return book


def _add(book: GlBook, postings: list[MoneyPosting], zone: ZoneInfo) -> None:
    for made in postings:
        book.add(made.at.astimezone(zone).date(), made.store_id, made.lines)
