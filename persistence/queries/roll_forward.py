"""The liability roll-forward read in one snapshot: the opening from the trial balance's
snapshots, each period's movements by kind from its own entries, and the breakage
recognised in advance at each edge."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.roll_forward import LiabilityPeriod, figures, month_starts, stretches
from domain.trial_balance import CUSTOMERS, OWED
from domain.valuation import Valuation
from persistence.ledger_snapshots import settled_horizon, sums_before
from persistence.models import JournalEntryRow, JournalLineRow
from persistence.queries.breakage import in_advance_before

LIABILITY = or_(JournalLineRow.account.like("customer:%"), JournalLineRow.account.like("owed:%"))


async def roll_forward(
    session: AsyncSession,
    span: tuple[datetime, datetime],
    zone: ZoneInfo,
    books: Valuation,
    settled: tuple[datetime, timedelta],
) -> list[LiabilityPeriod]:
    """Month by month (in the zone) from span's start to its end; `settled` is now and how
    far back a movement may still be dated (which snapshots hold). Read the session in one
    snapshot (persistence.database.one_snapshot) before anything else."""
    horizon = await settled_horizon(session, *settled)
    edges = month_starts(*span, zone)
    points, value = await _opening(session, span[0], books, horizon)
    in_advance = [await in_advance_before(session, edge, books, horizon) for edge in edges]
    periods = []
    for (start, end), contra in zip(pairwise(edges), pairwise(in_advance), strict=True):
        moves = [
            (price, await _by_kind(session, a, b))
            for a, b, price in stretches(start, end, books.point_values, books.default_point_value)
        ]
        period = LiabilityPeriod(start, end, points, value, figures(moves), *contra)
        periods.append(period)
        points, value = period.closing_points, period.closing_value
    return periods


async def _opening(
    session: AsyncSession, start: datetime, books: Valuation, horizon: datetime
) -> tuple[int, Decimal]:
    """The liability before `start`, in points and valued stretch by stretch."""
    points, value = 0, Decimal(0)
    for _, end, price in stretches(None, start, books.point_values, books.default_point_value):
        before = await _liability_before(session, end, horizon)
        value += price * (before - points)
        points = before
    return points, value


async def _liability_before(session: AsyncSession, moment: datetime, horizon: datetime) -> int:
    sums = await sums_before(session, moment, horizon)
    return sums.get(CUSTOMERS, 0) + sums.get(OWED, 0)


async def _by_kind(session: AsyncSession, start: datetime | None, end: datetime) -> dict[str, int]:
    query = (
        select(JournalEntryRow.kind, func.sum(JournalLineRow.amount))
        .join(JournalEntryRow, JournalEntryRow.id == JournalLineRow.entry_id)
        .where(LIABILITY, JournalEntryRow.occurred_at < end)
        .group_by(JournalEntryRow.kind)
    )
    if start is not None:
        query = query.where(JournalEntryRow.occurred_at >= start)
    return {kind: int(points) for kind, points in await session.execute(query)}
