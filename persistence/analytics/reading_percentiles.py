"""Percentiles read from the rollups: of a whole period from its kept percentiles, of any
other run of days from the values seen (year, quarter, month and day rows), found through
their bins on PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, and_, cast, func, literal, or_, select

from domain.analytics import (
    PERCENTILE_FRACTIONS,
    Days,
    Granularity,
    Metric,
    Percentiles,
    Period,
    bin_end,
    value_bin,
)
from persistence.analytics.cover import cover_values, covering, spanning
from persistence.analytics.reading_context import ALL_REWARDS, ReadingContext
from persistence.analytics.tally import BINNED
from persistence.models import RollupPercentileRow, RollupValueRow


class PercentileReader:
    """The percentiles of one report's periods and runs of days."""

    def __init__(self, context: ReadingContext) -> None:
        self.context = context
        # One scope's kept percentiles of the range's whole periods and the periods before
        # them, read once per report (not once per period).
        self.kept: dict[tuple[date, str, str], Percentiles] = {}
        self.ages: dict[str, Percentiles] | None = None

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
                spanning(kept.period, starts),
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
            found = await self.range_ages()
        else:
            found = await self._of_values(days, metric, key)
        return found.get(key, Percentiles())

    async def range_ages(self) -> dict[str, Percentiles]:
        """The percentiles of the ages of the points spent in the range, of every reward
        and of all of them: read once for the totals and the velocity table."""
        if self.ages is None:
            self.ages = await self._of_values(self.context.asked.days, Metric.REDEMPTION_DAYS, None)
        return self.ages

    def _kept_percentiles(self, period: Period, metric: Metric, key: str) -> Percentiles:
        return self.kept.get((period.start, metric.value, key), Percentiles())

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
            seen = self._seen(days, metric.value, key)
            for found_key, value, count in (await self.context.execute(seen)).all():
                counts[found_key].append((value, int(count)))
            return {found: Percentiles.of(values) for found, values in counts.items()}
        binned = await self.context.execute(_ranked(self._seen(days, BINNED[metric], key)))
        bins = RankedBins()
        for found_key, start, count, upto, total in binned.all():
            bins.add(found_key, start, int(upto) - int(count), int(total))
        if not bins.totals:
            return {}
        within = self._seen(days, metric.value, None).where(bins.holding(RollupValueRow))
        return bins.percentiles((await self.context.execute(within)).all())

    def _seen(self, days: Days, metric: str, key: str | None) -> Any:
        """How often each value (or bin) was seen in these days, by key."""
        table = RollupValueRow
        wanted = [table.key == key] if key is not None else []
        return (
            select(table.key, table.value, func.sum(table.count).label("count"))
            .where(
                table.zone == self.context.zone,
                table.scope.in_(self.context.scopes),
                table.metric == metric,
                covering(table, cover_values(days)),
                *wanted,
            )
            .group_by(table.key, table.value)
        )


class RankedBins:
    """The bins holding the ranks the percentiles need, by key, each with the count of
    values before it; then the percentiles from the values in those bins."""

    def __init__(self) -> None:
        self.below: defaultdict[str, dict[Decimal, int]] = defaultdict(dict)
        self.totals: dict[str, int] = {}

    def add(self, key: str, start: Decimal, below: int, total: int) -> None:
        self.below[key][start] = below
        self.totals[key] = total

    def holding(self, table: Any) -> Any:
        """The values of these keys in these bins (runs of adjacent bins as one)."""
        return or_(
            *(
                and_(table.key == key, *_within(table, start, end))
                for key, starts in sorted(self.below.items())
                for start, end in _runs_of_bins(sorted(starts))
            )
        )

    def percentiles(self, rows: Sequence[tuple[str, Decimal, Any]]) -> dict[str, Percentiles]:
        """From each key's values in its bins, in order: the count up to each value is the
        count before its bin plus those of the bin up to it."""
        upto: defaultdict[str, list[tuple[Decimal, int]]] = defaultdict(list)
        so_far: dict[tuple[str, Decimal], int] = {}
        for key, value, count in sorted(rows, key=lambda row: (row[0], row[1])):
            start = value_bin(value)
            seen = so_far.get((key, start), self.below[key][start]) + int(count)
            so_far[(key, start)] = seen
            upto[key].append((value, seen))
        return {key: Percentiles.of_ranks(upto[key], total) for key, total in self.totals.items()}


def _within(table: Any, start: Decimal, end: Decimal) -> tuple[Any, ...]:
    if start == end:  # the bin of 0 alone
        return (table.value == start,)
    return (table.value >= start, table.value < end)


def _runs_of_bins(starts: Sequence[Decimal]) -> list[tuple[Decimal, Decimal]]:
    """Bins as [start, end) runs, adjacent bins merged."""
    runs: list[tuple[Decimal, Decimal]] = []
    for start in starts:
        end = bin_end(start)
        if runs and runs[-1][1] == start and start != end:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    return runs


def _whole_period_of(days: Days) -> Granularity | None:
    """The kind of period (month, week, day) these days are exactly one of, if any."""
    for granularity in (Granularity.MONTH, Granularity.WEEK, Granularity.DAY):
        if days.whole_periods(granularity):
            return granularity
    return None


def _ranked(seen: Any) -> Any:
    """Of the values (or bins) seen, those holding a rank a percentile needs, each with its
    count, the count up to it and the key's total (window sums over them in order)."""
    counted = seen.cte("seen")
    # Window sums of integers (a value is seen fewer than 2**31 times in a range's rows):
    # bigint arithmetic, several times as fast as NUMERIC over thousands of values.
    times = cast(counted.c.count, Integer)
    upto = func.sum(times).over(partition_by=counted.c.key, order_by=counted.c.value)
    total = func.sum(times).over(partition_by=counted.c.key)
    ranked = select(
        counted.c.key,
        counted.c.value,
        times.label("count"),
        upto.label("upto"),
        total.label("total"),
    ).cte("ranked")
    below = ranked.c.upto - ranked.c.count  # values before this one
    ranks = []
    for fraction in PERCENTILE_FRACTIONS:
        lower = func.floor(literal(fraction) * (ranked.c.total - 1))
        ranks += [lower, func.least(lower + 1, ranked.c.total - 1)]
    holds = or_(*(and_(rank >= below, rank < ranked.c.upto) for rank in ranks))
    return select(
        ranked.c.key, ranked.c.value, ranked.c.count, ranked.c.upto, ranked.c.total
    ).where(holds)
