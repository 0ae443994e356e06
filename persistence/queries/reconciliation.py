"""The reconciliation's statements, read in one snapshot (all sides as of one moment).

They read the whole journal: seconds at millions of entries, which is why the worker runs
them every hour or so and not on every request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.gl_export import beyond_rounding
from domain.reconciliation import (
    Check,
    Reconciliation,
    export_matches,
    outbox_published,
    rows_apart,
    sides,
)
from persistence.database import one_snapshot
from persistence.ledger_snapshots import settled_horizon
from persistence.queries.gl import gl_book
from persistence.types import UtcDateTime
from persistence.valuation import valuation

UNBALANCED_ENTRIES = """
SELECT count(*), coalesce(sum(abs(total)), 0), min(entry_id) FROM (
    SELECT entry_id, sum(amount) AS total FROM journal_lines GROUP BY entry_id
    HAVING sum(amount) <> 0) AS unbalanced"""
ALL_LINES = "SELECT coalesce(sum(amount), 0) FROM journal_lines"
# A customer's cached figure against the sum of the lines of their account of that kind.
CACHED_AGAINST_JOURNAL = """
SELECT count(*), coalesce(sum(abs(c.{column} - {sign} coalesce(j.points, 0))), 0), min(c.id)
FROM customers AS c LEFT JOIN (
    SELECT account, sum(amount) AS points FROM journal_lines
    WHERE account LIKE '{prefix}:%' GROUP BY account) AS j ON j.account = '{prefix}:' || c.id
WHERE c.{column} <> {sign} coalesce(j.points, 0)"""
LOTS_AGAINST_BALANCES = """
SELECT count(*), coalesce(sum(abs(c.balance - coalesce(l.remaining, 0))), 0), min(c.id)
FROM customers AS c LEFT JOIN (
    SELECT customer_id, sum(remaining) AS remaining FROM point_lots GROUP BY customer_id) AS l
    ON l.customer_id = c.id
WHERE c.balance <> coalesce(l.remaining, 0)"""
PROGRAMME_SIDE = (
    "SELECT coalesce(-sum(amount), 0) FROM journal_lines WHERE account LIKE 'programme:%'"
)
CUSTOMERS_SIDE = "SELECT coalesce(sum(balance), 0) - coalesce(sum(points_owed), 0) FROM customers"
LATE_OUTBOX = """
SELECT count(*), min(created_at) FROM outbox WHERE published_at IS NULL AND created_at < :cutoff"""


@dataclass(frozen=True)
class Bounds:
    """How old an unpublished change may be; whose month the export is checked for; how far
    back a movement may still be dated."""

    outbox_seconds: int
    zone: ZoneInfo
    default_point_value: Decimal
    settled_back: timedelta


async def reconciliation(session: AsyncSession, now: datetime, bounds: Bounds) -> Reconciliation:
    await one_snapshot(session)
    checks = (
        await _entries_balanced(session),
        sides(
            "trial-balance",
            ("every line of the journal", await _one(session, ALL_LINES)),
            ("zero", 0),
        ),
        await _cached_against_journal(session, "balance", "customer", ""),
        await _cached_against_journal(session, "points_owed", "owed", "-"),
        await _apart(session, "lots-match-balances", "customer", LOTS_AGAINST_BALANCES),
        sides(
            "liability-matches-balances",
            ("the programme accounts' liability", await _one(session, PROGRAMME_SIDE)),
            ("the customers' balances less points owed", await _one(session, CUSTOMERS_SIDE)),
        ),
        await _outbox(session, now, bounds.outbox_seconds),
        await _export_of_the_month(session, now, bounds),
    )
    return Reconciliation(now, checks)


async def _export_of_the_month(session: AsyncSession, now: datetime, bounds: Bounds) -> Check:
    """Last month and this one so far, in the reporting zone, exported against their exact
    postings."""
    books = await valuation(session, bounds.default_point_value)
    today = now.astimezone(bounds.zone).date()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    horizon = await settled_horizon(session, now, bounds.settled_back)
    days = (last_month, today + timedelta(days=1))
    book = await gl_book(session, days, bounds.zone, books, horizon)
    journals = book.journals()
    apart = beyond_rounding(journals, book.exact_by_account())
    unbalanced = sum(1 for journal in journals if not journal.balanced)
    return export_matches(len(journals), unbalanced, apart, books.point_value_at(now))


async def _entries_balanced(session: AsyncSession) -> Check:
    return await _apart(session, "entries-balanced", "entry", UNBALANCED_ENTRIES)


async def _cached_against_journal(
    session: AsyncSession, column: str, prefix: str, sign: str
) -> Check:
    statement = CACHED_AGAINST_JOURNAL.format(column=column, prefix=prefix, sign=sign)
    name = "balances-match-journal" if column == "balance" else "points-owed-match-journal"
    return await _apart(session, name, "customer", statement)


async def _apart(session: AsyncSession, name: str, compared: str, statement: str) -> Check:
    apart, difference, first = (await session.execute(text(statement))).one()
    return rows_apart(name, compared, int(apart), int(difference), first)


async def _one(session: AsyncSession, statement: str) -> int:
    return int((await session.execute(text(statement))).scalar_one())


async def _outbox(session: AsyncSession, now: datetime, bound_seconds: int) -> Check:
    cutoff = now - timedelta(seconds=bound_seconds)
    statement = text(LATE_OUTBOX).bindparams(bindparam("cutoff", type_=UtcDateTime()))
    found = await session.execute(statement, {"cutoff": cutoff})
    late, oldest = found.one()
    return outbox_published(int(late), oldest, bound_seconds)
