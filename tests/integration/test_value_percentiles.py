"""Percentiles of values seen over a run of days: PostgreSQL ranks the values and sends
only those at the ranks needed, SQLite sends them all; both equal percentile_cont over
every value seen (Percentiles.of), ties, single values and money-sized decimals included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from domain.analytics import AnalyticsRange, Granularity, Metric, Percentiles
from persistence.analytics.reading_context import ReadingContext
from persistence.analytics.reading_percentiles import PercentileReader
from persistence.base import table_of
from persistence.database import Database
from persistence.models import RollupValueRow
from tests.conftest import empty_tables

FIRST = date(2026, 3, 30)  # the range holds part days, a whole month and part of May
VALUE = st.sampled_from([Decimal(v) for v in ("0", "0.125", "7", "310", "2400", "2410", "1E+4")])
SEEN = st.lists(
    st.tuples(st.integers(0, 34), st.sampled_from(["", "R1"]), VALUE, st.integers(1, 4)),
    min_size=1,
    max_size=40,
)


def rows(seen: list[tuple[int, str, Decimal, int]]) -> list[dict[str, object]]:
    """The day and month rows the worker keeps for these values (summed per row key)."""
    counted: dict[tuple[object, ...], int] = {}
    for offset, key, value, count in seen:
        day = FIRST + timedelta(days=offset)
        for granularity, period in (("DAY", day), ("MONTH", day.replace(day=1))):
            row = ("UTC", granularity, period, "*", Metric.CHECKOUT_MS.value, key, value)
            counted[row] = counted.get(row, 0) + count
    names = ("zone", "granularity", "period", "scope", "metric", "key", "value")
    return [dict(zip(names, row, strict=True)) | {"count": n} for row, n in counted.items()]


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
