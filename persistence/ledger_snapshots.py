"""The trial balance's snapshots, and the movements between two moments summed by account
(each customer's account as `customer:*`, points owed as `owed:*`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.trial_balance import CUSTOMERS, OWED, settled_until
from persistence.database import insert_or_ignore
from persistence.models import JournalEntryRow, JournalLineRow, LedgerSnapshotRow
from persistence.periods import closed_until

GROUPED = case(
    (JournalLineRow.account.like("customer:%"), CUSTOMERS),
    (JournalLineRow.account.like("owed:%"), OWED),
    else_=JournalLineRow.account,
)


async def settled_horizon(session: AsyncSession, now: datetime, back: timedelta) -> datetime:
    """Before when nothing can be recorded any more, as the books stand now (snapshots past
    it do not hold)."""
    return settled_until(now, await closed_until(session), back)


async def latest_snapshot(
    session: AsyncSession, at: datetime
) -> tuple[datetime | None, dict[str, int]]:
    """The last snapshot at or before `at` (None and nothing: there is none)."""
    moment = await session.scalar(
        select(func.max(LedgerSnapshotRow.at)).where(LedgerSnapshotRow.at <= at)
    )
    if moment is None:
        return None, {}
    rows = await session.execute(
        select(LedgerSnapshotRow.account, LedgerSnapshotRow.points).where(
            LedgerSnapshotRow.at == moment
        )
    )
    return moment, {account: int(points) for account, points in rows}


async def moved_between(
    session: AsyncSession, start: datetime | None, end: datetime, *, end_included: bool
) -> dict[str, int]:
    """The lines of the entries that happened from `start` (None: the first) to `end`."""
    happened = JournalEntryRow.occurred_at
    query = (
        select(GROUPED, func.sum(JournalLineRow.amount))
        .join(JournalEntryRow, JournalEntryRow.id == JournalLineRow.entry_id)
        .where(happened <= end if end_included else happened < end)
        .group_by(GROUPED)
    )
    if start is not None:
        query = query.where(happened >= start)
    return {account: int(points) for account, points in await session.execute(query)}


async def sums_before(session: AsyncSession, moment: datetime, horizon: datetime) -> dict[str, int]:
    """Every account's sum over the movements that happened before `moment`: the last
    snapshot that holds and the movements since it."""
    snapshot, sums = await latest_snapshot(session, min(moment, horizon))
    return added(sums, await moved_between(session, snapshot, moment, end_included=False))


def added(base: dict[str, int], moved: dict[str, int]) -> dict[str, int]:
    return {a: base.get(a, 0) + moved.get(a, 0) for a in base.keys() | moved.keys()}


async def take_snapshot(session: AsyncSession, at: datetime, sums: dict[str, int]) -> None:
    """Kept once: another process taking the same one writes the same sums."""
    rows = [{"at": at, "account": a, "points": p} for a, p in ({CUSTOMERS: 0} | sums).items()]
    statement = insert_or_ignore(session, LedgerSnapshotRow).on_conflict_do_nothing()
    await session.execute(statement, rows)


async def drop_snapshots_after(session: AsyncSession, moment: datetime) -> None:
    """Snapshots after a moment from which the books are open again no longer hold."""
    await session.execute(delete(LedgerSnapshotRow).where(LedgerSnapshotRow.at > moment))
