"""The tables of a report's whole range read from the rollups: staff, reward velocity,
cohorts and lifetime value."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import String, bindparam, func, literal_column, select, union_all

from domain.analytics import (
    PROGRAMME,
    Cohort,
    Days,
    Flow,
    Granularity,
    LifetimeValue,
    Moments,
    Participation,
    Percentiles,
    RewardVelocity,
    Segment,
    StaffFigures,
    period_of,
)
from persistence.analytics.cover import DAY, MONTH, cover, covering, each_month
from persistence.analytics.reading_context import ALL_REWARDS, ReadingContext
from persistence.base import table_of
from persistence.models import (
    STAFF_FIGURES,
    CustomerRow,
    RollupCohortRow,
    RollupCustomerPeriodRow,
    RollupRewardRow,
    RollupSegmentRow,
    RollupStaffRow,
    RollupTotalsRow,
)

RewardRows = list[tuple[str, int, int]]  # (reward, redemptions, points) of a range
SegmentRows = dict[str, Any]  # the participation segments' rows, by participation


class RangeTableReader:
    """The tables of one report's range, each read on its own (they run at once); velocity
    and lifetime value are then made with the report's percentiles and totals."""

    def __init__(self, context: ReadingContext) -> None:
        self.context = context

    async def staff(self, days: Days) -> list[StaffFigures]:
        context, some_stores = self.context, self.context.asked.store_ids is not None
        rows = cover(days)
        parameters = {
            "zone": context.zone,
            "months": [start for granularity, start in rows if granularity == MONTH],
            "days": [start for granularity, start in rows if granularity == DAY],
            **({"stores": list(context.scopes)} if some_stores else {}),
        }
        found = await context.execute(_staff_statement(some_stores), parameters)
        staff = [
            StaffFigures(staff, store or None, *(int(value) for value in values))
            for staff, store, *values in found.all()
            if any(values)
        ]
        return sorted(staff, key=lambda row: (row.staff_id, row.store_id or ""))

    async def rewards(self, days: Days) -> RewardRows:
        """Each reward's redemptions and points spent in these days."""
        table = RollupRewardRow
        rows = await self.context.execute(
            select(table.reward, func.sum(table.redemptions), func.sum(table.points))
            .where(
                table.zone == self.context.zone,
                table.scope.in_(self.context.scopes),
                table.reward != ALL_REWARDS,
                covering(table, cover(days)),
            )
            .group_by(table.reward)
        )
        return [(reward, int(count), int(points)) for reward, count, points in rows.all()]

    @staticmethod
    def velocity(rewards: RewardRows, ages: dict[str, Percentiles]) -> list[RewardVelocity]:
        """The velocity table: each reward's redemptions with the ages of the points spent."""
        velocity = [
            RewardVelocity(reward or None, count, points, ages.get(reward, Percentiles()))
            for reward, count, points in rewards
            if count
        ]
        return sorted(velocity, key=lambda row: row.reward_id or "")

    async def cohorts(self, days: Days) -> list[Cohort]:
        months = each_month(days)
        if not months:
            return []
        sizes = await self._new_by_month(months)
        active = await self._cohort_activity(months)
        return [
            Cohort(
                self.context.asked.instant(month),
                sizes.get(month, 0),
                tuple(active.get((month, later), 0) for later in months[index:]),
            )
            for index, month in enumerate(months)
        ]

    async def _new_by_month(self, months: Sequence[date]) -> dict[date, int]:
        table = RollupTotalsRow
        rows = await self.context.execute(
            select(table.period, table.new_customers).where(
                table.zone == self.context.zone,
                table.granularity == MONTH,
                table.scope == PROGRAMME,
                table.period.in_(months),
            )
        )
        return {month: int(count) for month, count in rows.all()}

    async def _cohort_activity(self, months: Sequence[date]) -> dict[tuple[date, date], int]:
        if not self.context.single:
            return await self._cohort_activity_of_stores(months)
        table = RollupCohortRow
        rows = await self.context.execute(
            select(table.cohort, table.month, table.customers).where(
                table.zone == self.context.zone,
                table.scope == self.context.scopes[0],
                table.cohort.in_(months),
                table.month.in_(months),
            )
        )
        return {(cohort, month): int(count) for cohort, month, count in rows.all()}

    async def _cohort_activity_of_stores(
        self, months: Sequence[date]
    ) -> dict[tuple[date, date], int]:
        """Several stores: a customer active in two of them in a month counts once."""
        context, table = self.context, RollupCustomerPeriodRow
        active = (
            select(table.customer_id, table.period)
            .where(
                table.zone == context.zone,
                table.granularity == MONTH,
                table.scope.in_(context.scopes),
                table.period.in_(months),
            )
            .group_by(table.customer_id, table.period)
            .subquery()
        )
        return await _cohorts_from_enrolments(context, active, months)

    async def segments(self) -> SegmentRows:
        found = await self.context.execute(select(*table_of(RollupSegmentRow).columns))
        return {row.participation: row for row in found.all()}

    @staticmethod
    def lifetime(rows: SegmentRows, flow: Flow) -> LifetimeValue:
        """Lifetime value by participation, beside the range's sales to members and guests."""
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


def _segment(kind: Participation, row: Any) -> Segment:
    if row is None:
        return Segment(kind)
    return Segment(kind, int(row.customers), int(row.sales), row.revenue, int(row.repeaters))


async def _cohorts_from_enrolments(
    context: ReadingContext, active: Any, months: Sequence[date]
) -> dict[tuple[date, date], int]:
    rows = await context.execute(
        select(active.c.period, CustomerRow.enrolled_at).join(
            CustomerRow, CustomerRow.id == active.c.customer_id
        )
    )
    counted: defaultdict[tuple[date, date], int] = defaultdict(int)
    zone = context.asked.zone
    for month, enrolled_at in rows.all():
        cohort = period_of(enrolled_at.astimezone(zone).date(), Granularity.MONTH)
        if cohort in months:
            counted[(cohort, month)] += 1
    return counted


@cache
def _staff_statement(some_stores: bool) -> Any:
    """Each staff member's figures over :months and :days (of :stores): the month rows
    from their own index alone, the day rows (the part months at a range's edges) by the
    primary key. Built once."""
    table = table_of(RollupStaffRow)
    stores = [table.c.store_id.in_(bindparam("stores", expanding=True))] if some_stores else []

    def rows_of(granularity: str, periods: str) -> Any:
        return select(
            table.c.staff_id, table.c.store_id, *(table.c[name] for name in STAFF_FIGURES)
        ).where(
            table.c.zone == bindparam("zone", type_=String),
            # A literal: the month rows' index holds only the rows it names.
            table.c.granularity == literal_column(f"'{granularity}'"),
            table.c.period.in_(bindparam(periods, expanding=True)),
            *stores,
        )

    both = union_all(rows_of(MONTH, "months"), rows_of(DAY, "days")).subquery("staff_rows")
    return select(
        both.c.staff_id, both.c.store_id, *(func.sum(both.c[name]) for name in STAFF_FIGURES)
    ).group_by(both.c.staff_id, both.c.store_id)
