"""Active and retained customers read from the rollups: of a whole period from its
counters, of any other run of days from the gaps between customers' active days, and of
several stores as distinct customers from the customer-period rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, func, select

from domain.analytics import Days, Period
from persistence.analytics.counting_activity import FIRST_DAY
from persistence.analytics.cover import DAY, spanning, whole_period
from persistence.analytics.reading_context import ReadingContext
from persistence.models import RollupActivityRow, RollupCustomerPeriodRow, RollupGapRow


class ActiveCustomerReader:
    """Active and retained customers of one report's periods and runs of days."""

    def __init__(self, context: ReadingContext) -> None:
        self.context = context
        # One scope's counters of the range's whole periods and the periods before them,
        # read once per report (not once per period).
        self.counters: dict[date, tuple[int, int]] = {}

    async def read_whole_periods(self, starts: Sequence[date]) -> None:
        """The counters of the whole periods starting on these days, in one statement."""
        context, activity = self.context, RollupActivityRow
        rows = await context.execute(
            select(activity.period, activity.active, activity.retained).where(
                activity.zone == context.zone,
                activity.granularity == context.asked.granularity.value,
                activity.scope == context.scopes[0],
                spanning(activity.period, starts),
            )
        )
        self.counters = {start: (int(a), int(r)) for start, a, r in rows.all()}

    async def active(self, days: Days, period: Period | None) -> int:
        if days.count <= 0:
            return 0
        if self.context.single and period is not None and period.whole:
            return self._counter(period, "active")
        if self.context.single:
            return await self._active_from_gaps(days)
        return await self._distinct_active(days, period)

    def kept(self, period: Period) -> tuple[int, int, int]:
        """A whole period's customers of one scope, as counted: active, active in the
        period before, and retained (active in both)."""
        active, retained = self.counters.get(period.start, (0, 0))
        previous, _ = self.counters.get(period.previous_start(), (0, 0))
        return active, previous, retained

    def _counter(self, period: Period, name: str) -> int:
        active, retained = self.counters.get(period.start, (0, 0))
        return active if name == "active" else retained

    async def _active_from_gaps(self, days: Days) -> int:
        """Customers ever active here, less those one of whose gaps spans the days: two
        sums, each read from the index (after, before) or (before, after) that holds
        fewer of its rows."""
        table = RollupGapRow
        scope = (table.zone == self.context.zone, table.scope == self.context.scopes[0])
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
        found = (await self.context.execute(select(ever, spanning))).one()
        return int(found[0]) - int(found[1])

    async def _distinct_active(self, days: Days, period: Period | None) -> int:
        query = self._active_customers(days, period).subquery()
        return int(await self.context.scalar(select(func.count()).select_from(query)) or 0)

    def _active_customers(self, days: Days, period: Period | None) -> Any:
        table = RollupCustomerPeriodRow
        if period is not None and period.whole:
            granularity, when = period.granularity.value, table.period == period.start
        else:
            granularity, when = DAY, and_(table.period >= days.first, table.period < days.end)
        return (
            select(table.customer_id)
            .where(
                table.zone == self.context.zone,
                table.granularity == granularity,
                table.scope.in_(self.context.scopes),
                when,
            )
            .group_by(table.customer_id)
        )

    async def retained(
        self, days: Days, period: Period | None, before: Days, active: int, previous: int
    ) -> int:
        """Active both in these days and in the ones before."""
        if self.context.single and period is not None and period.whole:
            return self._counter(period, "retained")
        if self.context.single and before.end == days.first:
            return active + previous - await self._active_from_gaps(before.union(days))
        both = (
            self._active_customers(days, period)
            .intersect(self._active_customers(before, whole_period(before, period)))
            .subquery()
        )
        return int(await self.context.scalar(select(func.count()).select_from(both)) or 0)
