"""Upgrading a programme that already counted values seen (revision 0009) counts them in
their bins too, by day, month, quarter and year (not by week), exactly as the worker now
does (`value_bin`: powers of ten and the values just below them included), and going back
down removes the bins alone."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import date
from decimal import Decimal

from alembic import command

from domain.analytics import value_bin
from persistence.analytics.tally import BINNED
from persistence.migrate import alembic_config
from tests.integration.test_migration_0009 import _day, empty_database, execute, fetched, kept

__all__ = ["empty_database"]

VALUES = [
    Decimal(v)
    for v in (
        "0", "0.001", "0.00999", "0.0123", "0.999", "1", "9.99", "10", "99.9", "100", "123",
        "730", "999", "1000", "12300",
    )
]  # fmt: skip
ROWS = [
    (granularity, period, metric, key, value, 1 + index % 3)
    for granularity, period in (
        ("DAY", date(2026, 2, 3)),
        ("WEEK", date(2026, 2, 2)),
        ("MONTH", date(2026, 2, 1)),
        ("QUARTER", date(2026, 1, 1)),
        ("YEAR", date(2026, 1, 1)),
    )
    for metric, key in (("CHECKOUT_MS", ""), ("REDEMPTION_DAYS", "R1"), ("REDEMPTION_DAYS", "*"))
    for index, value in enumerate(VALUES)
]


def expected_bins() -> dict[tuple[object, ...], int]:
    bins: defaultdict[tuple[object, ...], int] = defaultdict(int)
    for granularity, period, metric, key, value, count in ROWS:
        if granularity != "WEEK":
            from_metric = next(bin_name for m, bin_name in BINNED.items() if m.value == metric)
            bins[(granularity, period, from_metric, key, value_bin(value))] += count
    return dict(bins)


async def bins_of(url: str) -> dict[tuple[object, ...], int]:
    found = await fetched(
        url,
        "SELECT granularity, period, metric, key, value, count FROM rollup_values "
        "WHERE metric IN ('CHECKOUT_MS_BIN', 'REDEMPTION_BIN')",
    )
    return {
        (kind, _day(period), metric, key, Decimal(str(value))): int(str(count))
        for kind, period, metric, key, value, count in found
    }


async def test_upgrading_counts_the_values_seen_in_their_bins(empty_database: str) -> None:
    url = empty_database
    config = alembic_config(url)
    await asyncio.to_thread(command.upgrade, config, "0009")
    insert = (
        "INSERT INTO rollup_values (zone, granularity, period, scope, metric, key, value, count) "
        "VALUES ('UTC', :kind, :period, 'S1', :metric, :key, :value, :count)"
    )
    await execute(
        url,
        (
            insert,
            [
                {
                    "kind": granularity,
                    "period": kept(url, period),
                    "metric": metric,
                    "key": key,
                    "value": kept(url, value),
                    "count": count,
                }
                for granularity, period, metric, key, value, count in ROWS
            ],
        ),
    )

    await asyncio.to_thread(command.upgrade, config, "0010")

    expected = expected_bins()
    assert len(expected) < len(ROWS)  # some values share a bin
    assert await bins_of(url) == expected
    await asyncio.to_thread(command.downgrade, config, "0009")
    assert await bins_of(url) == {}
