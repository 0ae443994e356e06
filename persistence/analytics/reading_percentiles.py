"""Percentiles read from the rollups: of a whole period from its kept percentiles, of any
other run of days from the values seen (year, quarter, month and day rows), found through
their bins on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, union_all

from domain.analytics import Days, Granularity, Metric, Percentiles, Period
from persistence.analytics.cover import cover_values, covering, spanning
from persistence.analytics.reading_bins import percentiles_through_bins
from persistence.analytics.reading_context import ALL_REWARDS, ReadingContext
from persistence.models import RollupPercentileRow, RollupValueRow

# The percentiles a period shows: of checkout time, and of the age of all points spent.
PERIOD_FIGURES = ((Metric.CHECKOUT_MS.value, ""), (Metric.REDEMPTION_DAYS.value, ALL_REWARDS))


class PercentileReader:
    """The percentiles of one report's periods and runs of days."""

    def __init__(self, context: ReadingContext) -> None:
        self.context = context
        # One scope's kept percentiles of the range's whole periods and the periods before
        # them, read once per report (not once per period).
        self.kept_by_period: dict[tuple[date, str, str], Percentiles] = {}
        self.ages: asyncio.Task[dict[str, Percentiles]] | None = None

    async def read_whole_periods(self, starts: Sequence[date]) -> None:
        """The kept percentiles of the whole periods starting on these days, in one
        statement: each figure a period shows one range of the index by scope."""
        context, kept = self.context, RollupPercentileRow
        figures = [
            select(
                kept.period, kept.metric, kept.key, kept.count, kept.p50, kept.p90, kept.p95
            ).where(
                kept.zone == context.zone,
                kept.granularity == context.asked.granularity.value,
                kept.scope == context.scopes[0],
                kept.metric == metric,
                kept.key == key,
                spanning(kept.period, starts),
            )
            for metric, key in PERIOD_FIGURES
        ]
        found = await context.execute(union_all(*figures))
        self.kept_by_period = {
            (period, metric, key): Percentiles(int(count), p50, p90, p95)
            for period, metric, key, count, p50, p90, p95 in found.all()
        }

    async def percentiles(
        self, days: Days, period: Period | None, metric: Metric, key: str
    ) -> Percentiles:
        if self.context.single and period is not None and period.whole:
            return self.kept(period, metric, key)
        if days == self.context.asked.days and metric is Metric.REDEMPTION_DAYS:
            found = await self.range_ages()
        else:
            found = await self._of_values(days, metric, key)
        return found.get(key, Percentiles())

    def start_range_ages(self, group: asyncio.TaskGroup) -> asyncio.Task[dict[str, Percentiles]]:
        """The percentiles of the ages of the points spent in the range, of every reward
        and of all of them, read once in a task of the report's group: the totals and the
        velocity table, running at once, wait for the same read."""
        self.ages = group.create_task(self._read_range_ages())
        return self.ages

    async def range_ages(self) -> dict[str, Percentiles]:
        return await (self.ages if self.ages is not None else self._read_range_ages())

    async def _read_range_ages(self) -> dict[str, Percentiles]:
        return await self._of_values(self.context.asked.days, Metric.REDEMPTION_DAYS, None)

    def kept(self, period: Period, metric: Metric, key: str) -> Percentiles:
        """A whole period's kept percentiles of one scope."""
        return self.kept_by_period.get((period.start, metric.value, key), Percentiles())

    async def _of_values(
        self, days: Days, metric: Metric, key: str | None
    ) -> dict[str, Percentiles]:
        """The percentiles of these days, by key (one key, or every key): of one whole
        day, week or month of one scope, those kept; else from the values seen."""
        whole = _whole_period_of(days) if self.context.single else None
        if whole is not None:
            return await self._kept_of(whole, days.first, metric, key)
        return await self._ranked_values(days, metric, key)

    async def _kept_of(
        self, granularity: Granularity, start: date, metric: Metric, key: str | None
    ) -> dict[str, Percentiles]:
        context, kept = self.context, RollupPercentileRow
        wanted = [kept.key == key] if key is not None else []
        found = await context.execute(
            select(kept.key, kept.count, kept.p50, kept.p90, kept.p95).where(
                kept.zone == context.zone,
                kept.granularity == granularity.value,
                kept.period == start,
                kept.scope == context.scopes[0],
                kept.metric == metric.value,
                *wanted,
            )
        )
        return {
            found_key: Percentiles(int(count), p50, p90, p95)
            for found_key, count, p50, p90, p95 in found.all()
        }

    async def _ranked_values(
        self, days: Days, metric: Metric, key: str | None
    ) -> dict[str, Percentiles]:
        """From the values seen. PostgreSQL ranks the bins, then the values of the bins
        holding the ranks needed (a tenth of the rows of ranking every value); SQLite
        keeps values as text (which sorts wrong) and sends every value with its count."""
        if not self.context.postgresql:
            counts: defaultdict[str, list[tuple[Decimal, int]]] = defaultdict(list)
            seen = self._seen(days, metric, key)
            for found_key, value, count in (await self.context.execute(seen)).all():
                counts[found_key].append((value, int(count)))
            return {found: Percentiles.of(values) for found, values in counts.items()}
        return await percentiles_through_bins(self.context, cover_values(days), metric, key)

    def _seen(self, days: Days, metric: Metric, key: str | None) -> Any:
        """How often each value was seen in these days, by key (SQLite)."""
        table = RollupValueRow
        wanted = [table.key == key] if key is not None else []
        return (
            select(table.key, table.value, func.sum(table.count).label("count"))
            .where(
                table.zone == self.context.zone,
                table.scope.in_(self.context.scopes),
                table.metric == metric.value,
                covering(table, cover_values(days)),
                *wanted,
            )
            .group_by(table.key, table.value)
        )


def _whole_period_of(days: Days) -> Granularity | None:
    """The kind of period (month, week, day) these days are exactly one of, if any."""
    for granularity in (Granularity.MONTH, Granularity.WEEK, Granularity.DAY):
        if days.whole_periods(granularity):
            return granularity
    return None
