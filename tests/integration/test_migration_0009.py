"""Upgrading a programme that already counted campaigns and values (revision 0008) fills
the campaign days from what was counted, in every zone the rollups kept, adds up the
values' quarters and years from their months, and goes back down cleanly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from persistence.migrate import alembic_config
from tests.conftest import BACKENDS, new_postgres_database

# 23:30 UTC on 1 December is 18:30 in New York: the same local day in both zones; 03:00
# UTC on 2 December is still 1 December in New York.
SALES = [
    ("job-1", False, datetime(2026, 12, 1, 23, 30, tzinfo=UTC), "10.50"),
    ("job-1", False, datetime(2026, 12, 2, 3, 0, tzinfo=UTC), "4.25"),
    ("job-1", True, datetime(2026, 12, 2, 3, 0, tzinfo=UTC), "7.00"),
]
SPENDS = [("job-1", 501, datetime(2026, 12, 2, 3, 0, tzinfo=UTC), 40)]


@pytest.fixture(params=BACKENDS)
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'upgrade.db'}"
        return
    async with new_postgres_database("loyalty_upgrade") as url:
        yield url


async def execute(url: str, *statements: tuple[str, list[dict[str, object]]]) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            for statement, rows in statements:
                await connection.execute(text(statement), rows)
    finally:
        await engine.dispose()


async def fetched(url: str, query: str) -> list[tuple[object, ...]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(query))]
    finally:
        await engine.dispose()


async def campaign_days(url: str) -> list[tuple[object, ...]]:
    rows = await fetched(
        url,
        "SELECT zone, bulk_award_id, holdout, day, revenue, points_spent "
        "FROM rollup_campaign_days ORDER BY zone, holdout, day",
    )
    return [
        (zone, job, bool(holdout), _day(day), Decimal(str(revenue)), int(str(points)))
        for zone, job, holdout, day, revenue, points in rows
    ]


async def coarse_values(url: str) -> list[tuple[object, ...]]:
    rows = await fetched(
        url,
        "SELECT granularity, period, value, count FROM rollup_values "
        "WHERE granularity IN ('QUARTER', 'YEAR')",
    )
    found = [
        (str(kind), _day(period), Decimal(str(value)), int(str(count)))
        for kind, period, value, count in rows
    ]
    return sorted(found)


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def kept(url: str, value: date | Decimal) -> object:
    """As each database keeps a date or an exact number (SQLite: text)."""
    return value if url.startswith("postgresql") else str(value)


def stored(url: str, instant: datetime) -> object:
    """As each database keeps an instant (SQLite: naive UTC text)."""
    return instant if url.startswith("postgresql") else instant.replace(tzinfo=None).isoformat(" ")


async def test_upgrading_fills_the_campaign_days_from_the_counted_campaigns(
    empty_database: str,
) -> None:
    url = empty_database
    config = alembic_config(url)
    await asyncio.to_thread(command.upgrade, config, "0008")
    totals = (
        "INSERT INTO rollup_totals (zone, granularity, period, scope, sales, "
        "sales_with_redemption, checkouts, points_earned, points_awarded, points_redeemed, "
        "points_expired, points_reversed, redemptions, revenue, guest_sales, guest_revenue, "
        "net_points, new_customers) VALUES (:zone, 'DAY', '2026-12-01', '*', 0, 0, 0, 0, 0, 0, "
        "0, 0, 0, '0', 0, '0', 0, 0)"
    )
    await execute(
        url,
        (totals, [{"zone": "UTC"}, {"zone": "America/New_York"}]),
        (
            "INSERT INTO rollup_campaign_sales (bulk_award_id, sale_id, holdout, occurred_at, "
            "revenue) VALUES (:job, :sale, :holdout, :at, :revenue)",
            [
                {"job": job, "sale": index, "holdout": holdout, "at": stored(url, at), "revenue": r}
                for index, (job, holdout, at, r) in enumerate(SALES)
            ],
        ),
        (
            "INSERT INTO rollup_campaign_spends (bulk_award_id, entry_id, spent_at, points) "
            "VALUES (:job, :entry, :at, :points)",
            [
                {"job": job, "entry": entry, "at": stored(url, at), "points": points}
                for job, entry, at, points in SPENDS
            ],
        ),
    )

    values = (
        "INSERT INTO rollup_values (zone, granularity, period, scope, metric, key, value, count) "
        "VALUES ('UTC', 'MONTH', :period, '*', 'CHECKOUT_MS', '', :value, :count)"
    )
    await execute(
        url,
        (
            values,
            [
                {"period": kept(url, date(2026, month, 1)), "value": kept(url, value), "count": n}
                for month, value, n in (
                    (1, Decimal(2400), 3),
                    (2, Decimal(2400), 2),
                    (4, Decimal(2400), 1),
                    (2, Decimal(310), 4),
                )
            ],
        ),
    )

    await asyncio.to_thread(command.upgrade, config, "0009")

    assert await coarse_values(url) == [
        ("QUARTER", date(2026, 1, 1), Decimal(310), 4),
        ("QUARTER", date(2026, 1, 1), Decimal(2400), 5),
        ("QUARTER", date(2026, 4, 1), Decimal(2400), 1),
        ("YEAR", date(2026, 1, 1), Decimal(310), 4),
        ("YEAR", date(2026, 1, 1), Decimal(2400), 6),
    ]
    assert await campaign_days(url) == [
        ("America/New_York", "job-1", False, date(2026, 12, 1), Decimal("14.75"), 40),
        ("America/New_York", "job-1", True, date(2026, 12, 1), Decimal("7.00"), 0),
        ("UTC", "job-1", False, date(2026, 12, 1), Decimal("10.50"), 0),
        ("UTC", "job-1", False, date(2026, 12, 2), Decimal("4.25"), 40),
        ("UTC", "job-1", True, date(2026, 12, 2), Decimal("7.00"), 0),
    ]
    await asyncio.to_thread(command.downgrade, config, "0008")
    await asyncio.to_thread(command.upgrade, config, "0009")
    assert len(await campaign_days(url)) == 5
    assert len(await coarse_values(url)) == 5
