"""Percentiles of values seen over a run of days: PostgreSQL ranks the bins, then the
values in the bins holding the ranks needed; SQLite sends every value. Both equal
percentile_cont over every value seen (Percentiles.of), ties, single values and
money-sized decimals included."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from domain.analytics import AnalyticsRange, Granularity, Metric, Percentiles
from persistence.analytics.reading_context import ReadingContext
from persistence.analytics.reading_percentiles import PercentileReader
from persistence.analytics.tally import Tally, Zones
from persistence.base import table_of
from persistence.database import Database
from persistence.models import RollupValueRow
from tests.conftest import empty_tables

FIRST = date(2026, 3, 30)  # the range holds part days, a whole month and part of May
# Values in one bin (2400, 2410, 2490), in adjacent bins (2490, 2500), in bins far apart,
# the bin of 0 alone, and fractions.
VALUE = st.sampled_from(
    [Decimal(v) for v in ("0", "0.125", "0.13", "7", "310", "2400", "2410", "2490", "2500", "1E+4")]
)
SEEN = st.lists(
    st.tuples(st.integers(0, 34), st.sampled_from(["", "R1"]), VALUE, st.integers(1, 4)),
    min_size=1,
    max_size=40,
)


def rows(seen: list[tuple[int, str, Decimal, int]]) -> list[dict[str, object]]:
    """The rows the worker keeps for these values (its own tally: values and their bins, by
    day, week, month, quarter and year)."""
    tally = Tally(Zones(("UTC",)))
    for offset, key, value, count in seen:
        instant = datetime.combine(FIRST + timedelta(days=offset), time(12), tzinfo=UTC)
        for _ in range(count):
            tally.add_value(instant, None, Metric.CHECKOUT_MS, key, value)
    names = ("zone", "granularity", "period", "scope", "metric", "key", "value")
    return [
        dict(zip(names, row, strict=True)) | {"count": counted["count"]}
        for row, counted in tally.values.items()
    ]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seen=SEEN)
async def test_percentiles_of_values_seen_equal_those_of_every_value(
    database: Database, seen: list[tuple[int, str, Decimal, int]]
) -> None:
    await empty_tables(database)
    async with database.writing() as session:
        await session.execute(insert(table_of(RollupValueRow)), rows(seen))
        await session.commit()
    start = datetime.combine(FIRST, datetime.min.time(), tzinfo=UTC)
    asked = AnalyticsRange(start, start + timedelta(days=35), Granularity.DAY, "UTC", None)
    async with database.reading() as session:
        found = await PercentileReader(ReadingContext(session, asked))._of_values(
            asked.days, Metric.CHECKOUT_MS, None
        )
    for key in ("", "R1"):
        values = [(value, count) for _, k, value, count in seen if k == key]
        assert found.get(key, Percentiles()) == Percentiles.of(values)
