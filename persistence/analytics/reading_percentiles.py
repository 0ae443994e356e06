"""Percentiles read from the rollups: of a whole period from its kept percentiles, of any
other run of days from the values seen (month and day rows)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from domain.analytics import Days, Metric, Percentiles, Period
from persistence.analytics.cover import cover_values, covering
from persistence.analytics.reading_context import ALL_REWARDS, ReadingContext
from persistence.models import RollupPercentileRow, RollupValueRow


class PercentileReader:
    """The percentiles of one report's periods and runs of days."""

    def __init__(self, context: ReadingContext) -> None:
        self.context = context
        # One scope's kept percentiles of the range's whole periods and the periods before
        # them, read once per report (not once per period).
        self.kept: dict[tuple[date, str, str], Percentiles] = {}
        self.ages: dict[str, dict[Decimal, int]] | None = None

    async def read_whole_periods(self, starts: Sequence[date]) -> None:
        """The kept percentiles of the whole periods starting on these days, in one
        statement."""
        context, kept = self.context, RollupPercentileRow
        found = await context.execute(
            select(
                kept.period, kept.metric, kept.key, kept.count, kept.p50, kept.p90, kept.p95
            ).where(
                kept.zone == context.zone,
                kept.granularity == context.asked.granularity.value,
                kept.scope == context.scopes[0],
                kept.period.in_(starts),
                kept.key.in_((ALL_REWARDS, "")),  # the periods' figures: no reward's own
            )
        )
        self.kept = {
            (period, metric, key): Percentiles(int(count), p50, p90, p95)
            for period, metric, key, count, p50, p90, p95 in found.all()
        }

    async def percentiles(
        self, days: Days, period: Period | None, metric: Metric, key: str
    ) -> Percentiles:
        if self.context.single and period is not None and period.whole:
            return self._kept_percentiles(period, metric, key)
        if days == self.context.asked.days and metric is Metric.REDEMPTION_DAYS:
            counts = await self.range_ages()
        else:
            counts = await self._values(days, metric, key)
        return Percentiles.of(counts.get(key, {}).items())

    async def range_ages(self) -> dict[str, dict[Decimal, int]]:
        """The ages of the points spent in the range, of every reward and of all of them:
        read once for the totals and the velocity table."""
        if self.ages is None:
            self.ages = await self._values(self.context.asked.days, Metric.REDEMPTION_DAYS, None)
        return self.ages

    def _kept_percentiles(self, period: Period, metric: Metric, key: str) -> Percentiles:
        return self.kept.get((period.start, metric.value, key), Percentiles())

    async def _values(
        self, days: Days, metric: Metric, key: str | None
    ) -> dict[str, dict[Decimal, int]]:
        """How often each value was seen in these days, by key (one key, or every key)."""
        table = RollupValueRow
        wanted = [table.key == key] if key is not None else []
        rows = await self.context.execute(
            select(table.key, table.value, func.sum(table.count))
            .where(
                table.zone == self.context.zone,
                table.scope.in_(self.context.scopes),
                table.metric == metric.value,
                covering(table, cover_values(days)),
                *wanted,
            )
            .group_by(table.key, table.value)
        )
        counts: defaultdict[str, dict[Decimal, int]] = defaultdict(dict)
        for found_key, value, count in rows.all():
            counts[found_key][value] = int(count)
        return counts
