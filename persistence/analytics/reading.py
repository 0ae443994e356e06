"""Analytics read from the rollups only: no query here reads the journal or the sales.

Additive figures come from day rows (and month rows for the whole months of a long
range); active customers of a whole period from its counter, of any other run of days
from the gaps between customers' active days; percentiles of a whole period from its
kept percentiles, of any other run of days from the values seen (month and day rows).
A question about several stores (not one, not the programme) counts distinct customers
from the customer-period rows instead: exact, and slower in proportion to those stores.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.analytics import (
    FLOW_FIELDS,
    PROGRAMME,
    AnalyticsRange,
    AnalyticsReport,
    CheckoutComparison,
    Cohort,
    Days,
    Flow,
    Granularity,
    LifetimeValue,
    Metric,
    Moments,
    Participation,
    Percentiles,
    Period,
    PeriodFigures,
    RewardVelocity,
    Segment,
    StaffFigures,
    next_period,
    period_of,
)
from persistence.analytics.campaigns import campaign_figures
from persistence.analytics.rollups import FIRST_DAY
from persistence.base import table_of
from persistence.models import (
    CustomerRow,
    RollupActivityRow,
    RollupCohortRow,
    RollupCustomerPeriodRow,
    RollupGapRow,
    RollupPercentileRow,
    RollupRewardRow,
    RollupSegmentRow,
    RollupStaffRow,
    RollupTotalsRow,
    RollupValueRow,
)

DAY, WEEK, MONTH = Granularity.DAY.value, Granularity.WEEK.value, Granularity.MONTH.value
ALL_REWARDS = PROGRAMME
MONEY_OFF = ""


def cover(days: Days) -> list[tuple[str, date]]:
    """The day and month rows that add up to exactly these days."""
    rows: list[tuple[str, date]] = []
    day = days.first
    while day < days.end:
        month_end = next_period(period_of(day, Granularity.MONTH), Granularity.MONTH)
        if day.day == 1 and month_end <= days.end:
            rows.append((MONTH, day))
            day = month_end
        else:
            rows.append((DAY, day))
            day = date.fromordinal(day.toordinal() + 1)
    return rows


def _covering(model: Any, rows: Sequence[tuple[str, date]]) -> Any:
    """The model's rows of these (granularity, start) pairs: months as a list, days as
    runs of consecutive days (two years by day is one range, not 730 parameters)."""
    months = sorted(start for kind, start in rows if kind == MONTH)
    runs = _runs(sorted(start for kind, start in rows if kind == DAY))
    return or_(
        and_(model.granularity == MONTH, model.period.in_(months)),
        *(
            and_(model.granularity == DAY, model.period >= first, model.period < end)
            for first, end in runs
        ),
    )


def _runs(days: Sequence[date]) -> list[tuple[date, date]]:
    """Consecutive days as [first, end) runs."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + timedelta(days=1))
        else:
            runs.append((day, day + timedelta(days=1)))
    return runs


class RollupReader:
    """One report, read from the rollups of the range's time zone."""

    def __init__(self, session: AsyncSession, asked: AnalyticsRange, point_value: Decimal) -> None:
        self.session = session
        self.asked = asked
        self.point_value = point_value
        self.zone = asked.zone_name
        self.scopes = asked.scopes
        self.single = len(self.scopes) == 1
        # One scope's counters and kept percentiles of the range's whole periods and the
        # periods before them, read once per report (not once per period).
        self.counters: dict[date, tuple[int, int]] = {}
        self.kept: dict[tuple[date, str, str], Percentiles] = {}
        self.ages: dict[str, dict[Decimal, int]] | None = None

    async def _execute(self, statement: Any) -> Any:
        """A Core statement on the session's connection: rows as tuples, without the
        ORM's per-row work (a long report reads tens of thousands)."""
        return await (await self.session.connection()).execute(statement)

    async def _scalar(self, statement: Any) -> Any:
        return (await self._execute(statement)).scalar()

    async def report(self) -> AnalyticsReport:
        periods = self.asked.periods()
        days = self.asked.days
        flows = await self._flows(periods)
        programme = await self._programme_days(days)
        if self.single:
            await self._read_whole_periods(periods)
        figures = [
            await self._period(p.days, p, _sum_flows(flows, p.days), programme) for p in periods
        ]
        # The periods cut the range into pieces: its flow is theirs added up.
        flow = sum((figure.flow for figure in figures), Flow())
        totals = await self._period(days, None, flow, programme)
        return AnalyticsReport(
            totals=totals,
            periods=tuple(figures),
            campaigns=tuple(await campaign_figures(self.session, self.asked, self.point_value)),
            staff=tuple(await self._staff(days)),
            velocity=tuple(await self._velocity(days)),
            cohorts=tuple(await self._cohorts(days)),
            lifetime=await self._lifetime(totals.flow),
            checkout=CheckoutComparison(
                totals.checkout_time,
                await self._percentiles(self.asked.comparison, None, Metric.CHECKOUT_MS, ""),
            ),
        )

    async def _period(
        self,
        days: Days,
        period: Period | None,
        flow: Flow,
        programme: _ProgrammeDays,
    ) -> PeriodFigures:
        before = days.before() if period is None else period.before()
        active = await self._active(days, period)
        previous = await self._active(before, _whole(before, period))
        outstanding = programme.outstanding_before(days.end)
        return PeriodFigures(
            start=self.asked.instant(days.first),
            end=self.asked.instant(days.end),
            flow=flow,
            active_customers=active,
            previous_active=previous,
            retained_customers=await self._retained(days, period, before, active, previous),
            new_customers=programme.new_customers(days),
            outstanding_points=outstanding,
            outstanding_value=(outstanding * self.point_value).quantize(Decimal("0.01")),
            checkout_time=await self._percentiles(days, period, Metric.CHECKOUT_MS, ""),
            redemption_age=await self._percentiles(
                days, period, Metric.REDEMPTION_DAYS, ALL_REWARDS
            ),
        )

    # Additive figures.

    async def _flows(self, periods: Sequence[Period]) -> dict[tuple[str, date], Flow]:
        """The day and month rows that add up to each period, by (granularity, start)."""
        table = RollupTotalsRow
        needed = sorted({row for p in periods for row in cover(p.days)})
        rows = await self._execute(
            select(
                table.granularity, table.period, *(getattr(table, name) for name in FLOW_FIELDS)
            ).where(
                table.zone == self.zone,
                table.scope.in_(self.scopes),
                _covering(table, needed),
            )
        )
        flows: dict[tuple[str, date], Flow] = {}
        for granularity, start, *figures in rows.all():
            key, flow = (granularity, start), Flow(*figures)
            flows[key] = flows[key] + flow if key in flows else flow
        return flows

    async def _programme_days(self, days: Days) -> _ProgrammeDays:
        table = RollupTotalsRow
        programme = and_(
            table.zone == self.zone, table.granularity == DAY, table.scope == PROGRAMME
        )
        before = await self._scalar(
            select(func.coalesce(func.sum(table.net_points), 0)).where(
                programme, table.period < days.first
            )
        )
        rows = await self._execute(
            select(table.period, table.net_points, table.new_customers).where(
                programme, table.period >= days.first, table.period < days.end
            )
        )
        return _ProgrammeDays(int(before or 0), {p: (int(n), int(c)) for p, n, c in rows.all()})

    # Active and retained customers.

    async def _active(self, days: Days, period: Period | None) -> int:
        if days.count <= 0:
            return 0
        if self.single and period is not None and period.whole:
            return self._counter(period, "active")
        if self.single:
            return await self._active_from_gaps(days)
        return await self._distinct_active(days, period)

    async def _read_whole_periods(self, periods: Sequence[Period]) -> None:
        """The counters and percentiles of every whole period this report may ask for: those
        of the range and the one before each, in two statements."""
        starts = sorted({p.start for p in periods} | {p.before().first for p in periods})
        granularity = self.asked.granularity.value
        activity, kept = RollupActivityRow, RollupPercentileRow
        rows = await self._execute(
            select(activity.period, activity.active, activity.retained).where(
                activity.zone == self.zone,
                activity.granularity == granularity,
                activity.scope == self.scopes[0],
                activity.period.in_(starts),
            )
        )
        self.counters = {start: (int(a), int(r)) for start, a, r in rows.all()}
        found = await self._execute(
            select(
                kept.period, kept.metric, kept.key, kept.count, kept.p50, kept.p90, kept.p95
            ).where(
                kept.zone == self.zone,
                kept.granularity == granularity,
                kept.scope == self.scopes[0],
                kept.period.in_(starts),
                kept.key.in_((ALL_REWARDS, "")),  # the periods' figures: no reward's own
            )
        )
        self.kept = {
            (period, metric, key): Percentiles(int(count), p50, p90, p95)
            for period, metric, key, count, p50, p90, p95 in found.all()
        }

    def _counter(self, period: Period, name: str) -> int:
        active, retained = self.counters.get(period.start, (0, 0))
        return active if name == "active" else retained

    async def _active_from_gaps(self, days: Days) -> int:
        """Customers ever active here, less those one of whose gaps spans the days: two
        sums, each read from the index (after, before) or (before, after) that holds
        fewer of its rows."""
        table = RollupGapRow
        scope = (table.zone == self.zone, table.scope == self.scopes[0])
        ever = (
            select(func.coalesce(func.sum(table.customers), 0))
            .where(*scope, table.after == FIRST_DAY)
            .scalar_subquery()
        )
        spanning = (
            select(func.coalesce(func.sum(table.customers), 0))
            .where(*scope, table.after < days.first, table.before >= days.end)
            .scalar_subquery()
        )
        found = (await self._execute(select(ever, spanning))).one()
        return int(found[0]) - int(found[1])

    async def _distinct_active(self, days: Days, period: Period | None) -> int:
        query = self._active_customers(days, period).subquery()
        return int(await self._scalar(select(func.count()).select_from(query)) or 0)

    def _active_customers(self, days: Days, period: Period | None) -> Any:
        table = RollupCustomerPeriodRow
        if period is not None and period.whole:
            granularity, starts = period.granularity.value, [period.start]
        else:
            granularity, starts = DAY, _each_day(days)
        return (
            select(table.customer_id)
            .where(
                table.zone == self.zone,
                table.granularity == granularity,
                table.scope.in_(self.scopes),
                table.period.in_(starts),
            )
            .group_by(table.customer_id)
        )

    async def _retained(
        self, days: Days, period: Period | None, before: Days, active: int, previous: int
    ) -> int:
        """Active both in these days and in the ones before."""
        if self.single and period is not None and period.whole:
            return self._counter(period, "retained")
        if self.single and before.end == days.first:
            return active + previous - await self._active_from_gaps(before.union(days))
        both = (
            self._active_customers(days, period)
            .intersect(self._active_customers(before, _whole(before, period)))
            .subquery()
        )
        return int(await self._scalar(select(func.count()).select_from(both)) or 0)

    # Percentiles.

    async def _percentiles(
        self, days: Days, period: Period | None, metric: Metric, key: str
    ) -> Percentiles:
        if self.single and period is not None and period.whole:
            return self._kept_percentiles(period, metric, key)
        if days == self.asked.days and metric is Metric.REDEMPTION_DAYS:
            counts = await self._range_ages()
        else:
            counts = await self._values(days, metric, key)
        return Percentiles.of(counts.get(key, {}).items())

    async def _range_ages(self) -> dict[str, dict[Decimal, int]]:
        """The ages of the points spent in the range, of every reward and of all of them:
        read once for the totals and the velocity table."""
        if self.ages is None:
            self.ages = await self._values(self.asked.days, Metric.REDEMPTION_DAYS, None)
        return self.ages

    def _kept_percentiles(self, period: Period, metric: Metric, key: str) -> Percentiles:
        return self.kept.get((period.start, metric.value, key), Percentiles())

    async def _values(
        self, days: Days, metric: Metric, key: str | None
    ) -> dict[str, dict[Decimal, int]]:
        """How often each value was seen in these days, by key (one key, or every key)."""
        table = RollupValueRow
        wanted = [table.key == key] if key is not None else []
        rows = await self._execute(
            select(table.key, table.value, func.sum(table.count))
            .where(
                table.zone == self.zone,
                table.scope.in_(self.scopes),
                table.metric == metric.value,
                _covering(table, cover(days)),
                *wanted,
            )
            .group_by(table.key, table.value)
        )
        counts: defaultdict[str, dict[Decimal, int]] = defaultdict(dict)
        for found_key, value, count in rows.all():
            counts[found_key][value] = int(count)
        return counts

    # Tables of the range.

    async def _staff(self, days: Days) -> list[StaffFigures]:
        table = RollupStaffRow
        figures = (
            "enrolments",
            "sales",
            "points_issued",
            "points_redeemed",
            "refunds",
            "adjustments",
        )
        stores = [] if self.asked.store_ids is None else [table.store_id.in_(self.scopes)]
        rows = await self._execute(
            select(
                table.staff_id,
                table.store_id,
                *(func.sum(getattr(table, name)) for name in figures),
            )
            .where(table.zone == self.zone, _covering(table, cover(days)), *stores)
            .group_by(table.staff_id, table.store_id)
        )
        found = [
            StaffFigures(staff, store or None, *(int(value) for value in values))
            for staff, store, *values in rows.all()
            if any(values)
        ]
        return sorted(found, key=lambda row: (row.staff_id, row.store_id or ""))

    async def _velocity(self, days: Days) -> list[RewardVelocity]:
        table = RollupRewardRow
        rows = await self._execute(
            select(table.reward, func.sum(table.redemptions), func.sum(table.points))
            .where(
                table.zone == self.zone,
                table.scope.in_(self.scopes),
                table.reward != ALL_REWARDS,
                _covering(table, cover(days)),
            )
            .group_by(table.reward)
        )
        ages = await self._range_ages()
        velocity = [
            RewardVelocity(
                reward or None,
                int(count),
                int(points),
                Percentiles.of(ages.get(reward, {}).items()),
            )
            for reward, count, points in rows.all()
            if count
        ]
        return sorted(velocity, key=lambda row: row.reward_id or "")

    async def _cohorts(self, days: Days) -> list[Cohort]:
        months = _months(days)
        if not months:
            return []
        sizes = await self._new_by_month(months)
        active = await self._cohort_activity(months)
        return [
            Cohort(
                self.asked.instant(month),
                sizes.get(month, 0),
                tuple(active.get((month, later), 0) for later in months[index:]),
            )
            for index, month in enumerate(months)
        ]

    async def _new_by_month(self, months: Sequence[date]) -> dict[date, int]:
        table = RollupTotalsRow
        rows = await self._execute(
            select(table.period, table.new_customers).where(
                table.zone == self.zone,
                table.granularity == MONTH,
                table.scope == PROGRAMME,
                table.period.in_(months),
            )
        )
        return {month: int(count) for month, count in rows.all()}

    async def _cohort_activity(self, months: Sequence[date]) -> dict[tuple[date, date], int]:
        if not self.single:
            return await self._cohort_activity_of_stores(months)
        table = RollupCohortRow
        rows = await self._execute(
            select(table.cohort, table.month, table.customers).where(
                table.zone == self.zone,
                table.scope == self.scopes[0],
                table.cohort.in_(months),
                table.month.in_(months),
            )
        )
        return {(cohort, month): int(count) for cohort, month, count in rows.all()}

    async def _cohort_activity_of_stores(
        self, months: Sequence[date]
    ) -> dict[tuple[date, date], int]:
        """Several stores: a customer active in two of them in a month counts once."""
        table = RollupCustomerPeriodRow
        active = (
            select(table.customer_id, table.period)
            .where(
                table.zone == self.zone,
                table.granularity == MONTH,
                table.scope.in_(self.scopes),
                table.period.in_(months),
            )
            .group_by(table.customer_id, table.period)
            .subquery()
        )
        return await _cohorts_from_enrolments(self.session, self.asked, active, months)

    async def _lifetime(self, flow: Flow) -> LifetimeValue:
        rows = {
            row.participation: row
            for row in (await self._execute(select(*table_of(RollupSegmentRow).columns))).all()
        }
        segments = tuple(_segment(kind, rows.get(kind.value)) for kind in Participation)
        moments = Moments(
            n=sum(segment.customers for segment in segments),
            **{
                name: sum(int(getattr(row, name)) for row in rows.values())
                for name in ("x", "y", "xx", "yy", "xy")
            },
        )
        return LifetimeValue(
            segments, moments, flow.sales, flow.revenue, flow.guest_sales, flow.guest_revenue
        )


class _ProgrammeDays:
    """Programme-wide day figures: net points (for balances) and enrolments."""

    def __init__(self, before: int, days: dict[date, tuple[int, int]]) -> None:
        self.days = days
        self.ordered = sorted(days)
        self.balances = list(accumulate((days[day][0] for day in self.ordered), initial=before))

    def outstanding_before(self, end: date) -> int:
        """Every balance at the start of `end`: the net points of every day before it."""
        return self.balances[bisect_left(self.ordered, end)]

    def new_customers(self, days: Days) -> int:
        return sum(self.days[day][1] for day in _each_day(days) if day in self.days)


def _whole(days: Days, period: Period | None) -> Period | None:
    """The period these days are, when they are one whole period of the kind asked."""
    if period is None:
        return None
    candidate = Period(days, period.granularity)
    return candidate if candidate.whole else None


def _sum_flows(flows: dict[tuple[str, date], Flow], days: Days) -> Flow:
    """The flows of the day and month rows that make up these days."""
    found = [flows[row] for row in cover(days) if row in flows]
    if len(found) == 1:
        return found[0]
    return sum(found, Flow())


def _each_day(days: Days) -> list[date]:
    return [
        date.fromordinal(ordinal) for ordinal in range(days.first.toordinal(), days.end.toordinal())
    ]


def _months(days: Days) -> list[date]:
    months, month = [], period_of(days.first, Granularity.MONTH)
    while month < days.end:
        months.append(month)
        month = next_period(month, Granularity.MONTH)
    return months


def _segment(kind: Participation, row: Any) -> Segment:
    if row is None:
        return Segment(kind)
    return Segment(kind, int(row.customers), int(row.sales), row.revenue, int(row.repeaters))


async def _cohorts_from_enrolments(
    session: AsyncSession, asked: AnalyticsRange, active: Any, months: Sequence[date]
) -> dict[tuple[date, date], int]:
    rows = await session.execute(
        select(active.c.period, CustomerRow.enrolled_at).join(
            CustomerRow, CustomerRow.id == active.c.customer_id
        )
    )
    counted: defaultdict[tuple[date, date], int] = defaultdict(int)
    zone = asked.zone
    for month, enrolled_at in rows.all():
        cohort = period_of(enrolled_at.astimezone(zone).date(), Granularity.MONTH)
        if cohort in months:
            counted[(cohort, month)] += 1
    return counted


async def rollup_report(
    session: AsyncSession, asked: AnalyticsRange, point_value: Decimal
) -> AnalyticsReport:
    return await RollupReader(session, asked, point_value).report()
