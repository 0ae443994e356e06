"""Counting who was active when into the rollups: new customer periods, active and
retained counters, the gaps between customers' active days, and the cohorts' months."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import delete, insert, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from domain.analytics import Granularity, local_day, next_period, period_of, previous_period
from persistence.analytics.deltas import Deltas, add_to, as_arrays, chunks, is_postgres
from persistence.analytics.tally import EVERY_PERIOD, Tally
from persistence.base import table_of
from persistence.models import (
    CustomerRow,
    RollupActivityRow,
    RollupCohortRow,
    RollupCustomerPeriodRow,
    RollupGapRow,
)

FIRST_DAY = date(1, 1, 1)
LAST_DAY = date(9999, 12, 31)

# Joined with the keys as arrays: a row-value IN list would filter the scope's every gap.
FORGET_EMPTY_GAPS = text(
    "DELETE FROM rollup_gaps AS g USING unnest(CAST(:zone AS text[]), CAST(:scope AS text[]), "
    "CAST(:after AS date[]), CAST(:before AS date[])) AS w(zone, scope, after, before) "
    "WHERE g.zone = w.zone AND g.scope = w.scope AND g.after = w.after "
    "AND g.before = w.before AND g.customers = 0"
)


async def _forget_empty_gaps(session: AsyncSession, keys: Sequence[tuple[object, ...]]) -> None:
    """Delete the gaps this batch took customers from that no customer has any more (a
    row of 0 adds nothing to any count, but every read of the gaps would step over it)."""
    table = table_of(RollupGapRow)
    names = ("zone", "scope", "after", "before")
    if is_postgres(session):
        for chunk in chunks(keys, 5000):
            await session.execute(FORGET_EMPTY_GAPS, as_arrays(names, chunk))
        return
    for chunk in chunks(keys):
        await session.execute(
            delete(table).where(
                tuple_(*(table.c[name] for name in names)).in_(list(chunk)),
                table.c.customers == 0,
            )
        )


async def count_activity(session: AsyncSession, tally: Tally) -> None:
    """Who was active when: new customer periods, active and retained counts, the gaps
    between active days, and the cohorts' months."""
    if not tally.active_days:
        return
    customers = sorted({customer for _, _, customer, _ in tally.active_days})
    known = await _known_periods(session, customers)
    enrolled = await _enrolments(session, customers)
    activity = Deltas()
    gaps = Deltas()
    cohorts = Deltas()
    new_rows: list[dict[str, object]] = []
    for zone, scope, customer, day in sorted(tally.active_days):
        for granularity in EVERY_PERIOD:
            period = period_of(day, granularity)
            seen = known[(zone, granularity.value, scope, customer)]
            if period in seen:
                continue
            if granularity is Granularity.DAY:
                _move_gaps(gaps, zone, scope, seen, period)
            seen.add(period)
            new_rows.append(
                {
                    "zone": zone,
                    "granularity": granularity.value,
                    "scope": scope,
                    "customer_id": customer,
                    "period": period,
                }
            )
            _count_period(activity, zone, granularity, scope, period=period, seen=seen)
            if granularity is Granularity.MONTH and customer in enrolled:
                cohort = period_of(
                    local_day(enrolled[customer], tally.zones.infos[zone]), granularity
                )
                cohorts.add((zone, scope, cohort, period), customers=1)
    for chunk in chunks(new_rows, 2000):
        await session.execute(insert(table_of(RollupCustomerPeriodRow)), list(chunk))
    await add_to(session, RollupActivityRow, activity)
    await add_to(session, RollupGapRow, gaps)
    emptied = [key for key, delta in gaps.items() if delta["customers"] <= 0]
    await _forget_empty_gaps(session, emptied)
    await add_to(session, RollupCohortRow, cohorts)


def _count_period(
    activity: Deltas,
    zone: str,
    granularity: Granularity,
    scope: str,
    *,
    period: date,
    seen: set[date],
) -> None:
    """A customer newly active in `period`: retained there if active in the period before,
    and retained in the period after if active there already (a sale dated back)."""
    activity.add((zone, granularity.value, period, scope), active=1)
    if previous_period(period, granularity) in seen:
        activity.add((zone, granularity.value, period, scope), retained=1)
    following = next_period(period, granularity)
    if following in seen:
        activity.add((zone, granularity.value, following, scope), retained=1)


def _move_gaps(gaps: Deltas, zone: str, scope: str, seen: set[date], day: date) -> None:
    """A new active day splits the gap it falls in two."""
    before = max((d for d in seen if d < day), default=FIRST_DAY)
    after = min((d for d in seen if d > day), default=LAST_DAY)
    if seen:
        gaps.add((zone, scope, before, after), customers=-1)
    gaps.add((zone, scope, before, day), customers=1)
    gaps.add((zone, scope, day, after), customers=1)


async def _known_periods(
    session: AsyncSession, customers: Sequence[str]
) -> defaultdict[tuple[str, str, str, str], set[date]]:
    known: defaultdict[tuple[str, str, str, str], set[date]] = defaultdict(set)
    for chunk in chunks(customers):
        known_rows = RollupCustomerPeriodRow
        rows = await session.execute(
            select(
                known_rows.zone,
                known_rows.granularity,
                known_rows.scope,
                known_rows.customer_id,
                known_rows.period,
            ).where(known_rows.customer_id.in_(chunk))
        )
        for zone, granularity, scope, customer_id, period in rows.all():
            known[(zone, granularity, scope, customer_id)].add(period)
    return known


async def _enrolments(session: AsyncSession, customers: Sequence[str]) -> dict[str, datetime]:
    enrolled: dict[str, datetime] = {}
    for chunk in chunks(customers):
        rows = await session.execute(
            select(CustomerRow.id, CustomerRow.enrolled_at).where(CustomerRow.id.in_(chunk))
        )
        enrolled |= {str(customer_id): when for customer_id, when in rows.all()}
    return enrolled
