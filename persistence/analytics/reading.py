"""Analytics read from the rollups only: no query here reads the journal or the sales.

Additive figures come from day rows (and month rows for the whole months of a long
range); active customers of a whole period from its counter, of any other run of days
from the gaps between customers' active days; percentiles of a whole period from its
kept percentiles, of any other run of days from the values seen (month and day rows).
A question about several stores (not one, not the programme) counts distinct customers
from the customer-period rows instead: exact, and slower in proportion to those stores.

The parts: which rows cover a run of days (cover), active and retained customers
(reading_active), percentiles (reading_percentiles), the range's tables (reading_tables),
all reading with one ReadingContext (reading_context).
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import accumulate

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.analytics import (
    FLOW_FIELDS,
    PROGRAMME,
    AnalyticsRange,
    AnalyticsReport,
    CheckoutComparison,
    Days,
    Flow,
    Metric,
    Percentiles,
    Period,
    PeriodFigures,
)
from persistence.analytics.campaigns import campaign_figures
from persistence.analytics.cover import DAY, Cover, cover, covering, each_day, whole_period
from persistence.analytics.reading_active import ActiveCustomerReader
from persistence.analytics.reading_context import ALL_REWARDS, ReadingContext
from persistence.analytics.reading_percentiles import PercentileReader
from persistence.analytics.reading_tables import RangeTableReader
from persistence.models import RollupTotalsRow

__all__ = ["RollupReader", "cover", "rollup_report"]

CENT = Decimal("0.01")
NO_DAY = (0, 0)  # net points and enrolments of a day without rows


class RollupReader:
    """One report, read from the rollups of the range's time zone."""

    def __init__(self, session: AsyncSession, asked: AnalyticsRange, point_value: Decimal) -> None:
        self.context = ReadingContext(session, asked)
        self.asked = asked
        self.point_value = point_value
        self.active = ActiveCustomerReader(self.context)
        self.percentiles = PercentileReader(self.context)
        self.tables = RangeTableReader(self.context)
        self.instants: dict[date, datetime] = {}

    async def report(self) -> AnalyticsReport:
        """The report's parts, read at once (on PostgreSQL, on connections sharing one
        snapshot): the periods and totals first, the longest."""
        days, tables, percentiles = self.asked.days, self.tables, self.percentiles
        async with self.context, asyncio.TaskGroup() as group:
            ages = percentiles.start_range_ages(group)
            series = group.create_task(self._series())
            campaigns = group.create_task(campaign_figures(self.context, self.point_value))
            staff = group.create_task(tables.staff(days))
            rewards = group.create_task(tables.rewards(days))
            cohorts = group.create_task(tables.cohorts(days))
            segments = group.create_task(tables.segments())
            earlier = group.create_task(
                percentiles.percentiles(self.asked.comparison, None, Metric.CHECKOUT_MS, "")
            )
        totals, periods = series.result()
        return AnalyticsReport(
            totals=totals,
            periods=periods,
            campaigns=tuple(campaigns.result()),
            staff=tuple(staff.result()),
            velocity=tuple(tables.velocity(rewards.result(), ages.result())),
            cohorts=tuple(cohorts.result()),
            lifetime=tables.lifetime(segments.result(), totals.flow),
            checkout=CheckoutComparison(totals.checkout_time, earlier.result()),
        )

    async def _series(self) -> tuple[PeriodFigures, tuple[PeriodFigures, ...]]:
        """The totals and one figure per period."""
        periods = self.asked.periods()
        covers = [cover(p.days) for p in periods]
        # Independent reads, at once (each takes a free connection of the report).
        async with asyncio.TaskGroup() as group:
            read_flows = group.create_task(self._flows(covers))
            read_programme = group.create_task(self._programme_days(self.asked.days))
            group.create_task(self._read_whole_periods(periods))
        flows, programme = read_flows.result(), read_programme.result()
        figures = [
            self._kept(p, _sum_flows(flows, rows), programme)
            if self.context.single and p.whole
            else await self._period(p.days, p, _sum_flows(flows, rows), programme)
            for p, rows in zip(periods, covers, strict=True)
        ]
        # The periods cut the range into pieces: its flow is theirs added up.
        flow = Flow.total(f.flow for f in figures)
        return await self._period(self.asked.days, None, flow, programme), tuple(figures)

    def _kept(self, period: Period, flow: Flow, programme: _ProgrammeDays) -> PeriodFigures:
        """A whole period of one scope: its counters and percentiles are kept, read with
        the others of the report (most periods of a long report; nothing to await)."""
        active, previous, retained = self.active.kept(period)
        return self._figures(
            period.days,
            flow,
            (active, previous, retained),
            programme,
            self.percentiles.kept(period, Metric.CHECKOUT_MS, ""),
            self.percentiles.kept(period, Metric.REDEMPTION_DAYS, ALL_REWARDS),
        )

    async def _period(
        self,
        days: Days,
        period: Period | None,
        flow: Flow,
        programme: _ProgrammeDays,
    ) -> PeriodFigures:
        before = days.before() if period is None else period.before()
        percentiles = self.percentiles.percentiles
        async with asyncio.TaskGroup() as group:
            active = group.create_task(self.active.active(days, period))
            previous = group.create_task(self.active.active(before, whole_period(before, period)))
            checkout_time = group.create_task(percentiles(days, period, Metric.CHECKOUT_MS, ""))
            redemption_age = group.create_task(
                percentiles(days, period, Metric.REDEMPTION_DAYS, ALL_REWARDS)
            )
        customers = (active.result(), previous.result())
        retained = await self.active.retained(days, period, before, *customers)
        return self._figures(
            days,
            flow,
            (*customers, retained),
            programme,
            checkout_time.result(),
            redemption_age.result(),
        )

    def _figures(  # noqa: PLR0917  (the figures of one period, each read its own way)
        self,
        days: Days,
        flow: Flow,
        customers: tuple[int, int, int],
        programme: _ProgrammeDays,
        checkout_time: Percentiles,
        redemption_age: Percentiles,
    ) -> PeriodFigures:
        active, previous, retained = customers
        outstanding = programme.outstanding_before(days.end)
        return PeriodFigures(
            start=self._instant(days.first),
            end=self._instant(days.end),
            flow=flow,
            active_customers=active,
            previous_active=previous,
            retained_customers=retained,
            new_customers=programme.new_customers(days),
            outstanding_points=outstanding,
            outstanding_value=(outstanding * self.point_value).quantize(CENT),
            checkout_time=checkout_time,
            redemption_age=redemption_age,
        )

    def _instant(self, day: date) -> datetime:
        """A local midnight in UTC, worked out once (each period's end is the next's start)."""
        instant = self.instants.get(day)
        if instant is None:
            instant = self.instants[day] = self.asked.instant(day)
        return instant

    async def _read_whole_periods(self, periods: Sequence[Period]) -> None:
        """One scope's counters and percentiles of every whole period this report may ask
        for: those of the range and the one before each, in two statements."""
        if not self.context.single:
            return
        starts = sorted({p.start for p in periods} | {p.previous_start() for p in periods})
        async with asyncio.TaskGroup() as group:
            group.create_task(self.active.read_whole_periods(starts))
            group.create_task(self.percentiles.read_whole_periods(starts))

    # Additive figures.

    async def _flows(self, covers: Sequence[Cover]) -> dict[tuple[str, date], Flow]:
        """The day and month rows that add up to each period, by (granularity, start)."""
        table = RollupTotalsRow
        needed = sorted({row for rows in covers for row in rows})
        rows = await self.context.execute(
            select(
                table.granularity, table.period, *(getattr(table, name) for name in FLOW_FIELDS)
            ).where(
                table.zone == self.context.zone,
                table.scope.in_(self.context.scopes),
                covering(table, needed),
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
            table.zone == self.context.zone, table.granularity == DAY, table.scope == PROGRAMME
        )
        before = await self.context.scalar(
            select(func.coalesce(func.sum(table.net_points), 0)).where(
                programme, table.period < days.first
            )
        )
        rows = await self.context.execute(
            select(table.period, table.net_points, table.new_customers).where(
                programme, table.period >= days.first, table.period < days.end
            )
        )
        return _ProgrammeDays(int(before or 0), {p: (int(n), int(c)) for p, n, c in rows.all()})


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
        if days.count == 1:  # most periods of a long report
            return self.days.get(days.first, NO_DAY)[1]
        return sum(self.days[day][1] for day in each_day(days) if day in self.days)


def _sum_flows(flows: dict[tuple[str, date], Flow], rows: Cover) -> Flow:
    """The flows of the day and month rows that make up a period (its cover)."""
    found = [flows[row] for row in rows if row in flows]
    if len(found) == 1:
        return found[0]
    return Flow.total(found)


async def rollup_report(
    session: AsyncSession, asked: AnalyticsRange, point_value: Decimal
) -> AnalyticsReport:
    return await RollupReader(session, asked, point_value).report()
