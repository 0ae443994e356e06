"""Percentiles of values seen over a run of days on PostgreSQL, in two statements: rank
the bins of the range's rows (a tenth of the rows of its values) and keep those holding
the ranks a percentile needs, each with the count of values before it; then read the
values in those bins alone, and the percentiles are read off them exactly."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Numeric,
    String,
    and_,
    any_,
    bindparam,
    cast,
    column,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from domain.analytics import PERCENTILE_FRACTIONS, Metric, Percentiles, bin_end, value_bin
from persistence.analytics.arrays import array_parameters, unnest_rows
from persistence.analytics.reading_context import ReadingContext
from persistence.analytics.tally import BINNED
from persistence.base import table_of
from persistence.models import RollupValueRow

# Values are kept to 12 decimal places (ExactPoints): none lies between 0 and this, so
# the bin of 0 alone is [0, SMALLEST).
SMALLEST = Decimal("1E-12")
Cover = Sequence[tuple[str, date]]  # (granularity, period) rows adding up to the days


async def percentiles_through_bins(
    context: ReadingContext, cover: Cover, metric: Metric, key: str | None
) -> dict[str, Percentiles]:
    """The percentiles of the cover's values, by key (one key, or every key)."""
    if not cover:
        return {}
    rows = {
        "zone": context.zone,
        "scopes": list(context.scopes),
        **array_parameters("cover", ("granularity", "period"), cover),
    }
    one_key = {} if key is None else {"key": key}
    binned = await context.execute(
        _bins_seen(key is not None), {**rows, **one_key, "metric": BINNED[metric]}
    )
    bins = RankedBins()
    for found_key, start, count, upto, total in binned.all():
        bins.add(found_key, start, int(upto) - int(count), int(total))
    if not bins.totals:
        return {}
    runs = array_parameters("runs", ("key", "low", "high"), bins.runs())
    within = await context.execute(_values_in_bins(), {**rows, **runs, "metric": metric.value})
    return bins.percentiles(within.all())


@cache
def _bins_seen(one_key: bool) -> Any:
    """How often each bin was seen in the cover's rows, by key (of one :key, or every
    key), with the ranks the percentiles need: one index-only range of the primary key
    (zone, granularity, period, scope, metric, key, value) per row of the cover (a LATERAL
    with its own GROUP BY, where an OR of the rows is a bitmap scan that visits the
    table). Built once: its rows and key are parameters."""
    table, rows = table_of(RollupValueRow), _cover_rows()
    wanted = [table.c.key == bindparam("key", type_=String)] if one_key else []
    seen = (
        select(table.c.key, table.c.value, func.sum(table.c.count).label("count"))
        .where(*_in_row(rows), *wanted)
        .group_by(table.c.key, table.c.value)
        .lateral("row_seen")
    )
    return _ranked(
        select(seen.c.key, seen.c.value, func.sum(seen.c.count).label("count"))
        .select_from(rows)
        .join(seen, true())
        .group_by(seen.c.key, seen.c.value)
    )


@cache
def _values_in_bins() -> Any:
    """How often each value in the bins' runs (key, low, high) was seen in the cover's
    rows: every row with every run, each one probe of the primary key, so that only the
    values in the bins are read (a join would let the planner read every value of each
    row)."""
    table, rows = table_of(RollupValueRow), _cover_rows()
    runs = unnest_rows(
        "runs", column("key", String), column("low", Numeric), column("high", Numeric)
    )
    seen = (
        select(table.c.value, func.sum(table.c.count).label("count"))
        .where(
            *_in_row(rows),
            table.c.key == runs.c.key,
            table.c.value >= runs.c.low,
            table.c.value < runs.c.high,
        )
        .group_by(table.c.value)
        .lateral("run_seen")
    )
    return (
        select(runs.c.key, seen.c.value, func.sum(seen.c.count))
        .select_from(rows)
        .join(runs, true())
        .join(seen, true())
        .group_by(runs.c.key, seen.c.value)
    )


def _cover_rows() -> Any:
    return unnest_rows("cover", column("granularity", String), column("period", Date))


def _in_row(rows: Any) -> tuple[Any, ...]:
    """The values of one cover row of the report's zone and scopes, of :metric."""
    table = table_of(RollupValueRow)
    return (
        table.c.zone == bindparam("zone", type_=String),
        table.c.granularity == rows.c.granularity,
        table.c.period == rows.c.period,
        table.c.scope == any_(bindparam("scopes", type_=ARRAY(String))),
        table.c.metric == bindparam("metric", type_=String),
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

    def runs(self) -> list[tuple[str, Decimal, Decimal]]:
        """(key, low, high) of the values in these bins, runs of adjacent bins as one."""
        return [
            (key, start, end)
            for key, starts in sorted(self.below.items())
            for start, end in _runs_of_bins(sorted(starts))
        ]

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


def _runs_of_bins(starts: Sequence[Decimal]) -> list[tuple[Decimal, Decimal]]:
    """Bins as [start, end) runs, adjacent bins merged."""
    runs: list[tuple[Decimal, Decimal]] = []
    for start in starts:
        end = bin_end(start) or SMALLEST
        if runs and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    return runs


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
        # floor(fraction * (total - 1)) in bigint: the ranks are worked out for every value
        # seen, and NUMERIC arithmetic there was a quarter of the statement's time.
        numerator, denominator = fraction.as_integer_ratio()
        lower = (ranked.c.total - 1) * numerator // denominator
        ranks += [lower, func.least(lower + 1, ranked.c.total - 1)]
    holds = or_(*(and_(rank >= below, rank < ranked.c.upto) for rank in ranks))
    return select(
        ranked.c.key, ranked.c.value, ranked.c.count, ranked.c.upto, ranked.c.total
    ).where(holds)
