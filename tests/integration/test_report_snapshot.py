"""A rollup report on PostgreSQL reads in one REPEATABLE READ snapshot: the bins and then
the values in them (and every other statement of the report) agree with each other while
the worker commits between them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from domain.analytics import AnalyticsRange, Granularity
from persistence.analytics.reading_context import ReadingContext
from persistence.database import Database
from persistence.models import RollupTotalsRow

START = datetime(2026, 3, 1, tzinfo=UTC)
INSERT_STORE = (
    "INSERT INTO stores (id, name, created_at) VALUES ('SNAPSHOT-TEST', 'Snapshot', now())"
)
ASKED = AnalyticsRange(START, START + timedelta(days=31), Granularity.DAY, "UTC", None)


async def test_a_report_reads_one_snapshot_and_does_not_see_a_commit_made_meanwhile(
    postgres_url: str,
) -> None:
    database = Database(postgres_url)
    try:
        async with database.reading() as session:
            context = ReadingContext(session, ASKED)
            await context.execute(select(RollupTotalsRow.zone).limit(1))
            isolation = await context.scalar(text("SHOW transaction_isolation"))
            before = await context.scalar(text("SELECT count(*) FROM stores"))
            async with database.writing() as writer:
                await writer.execute(text(INSERT_STORE))
                await writer.commit()
            after = await context.scalar(text("SELECT count(*) FROM stores"))
    finally:
        async with database.writing() as writer:
            await writer.execute(text("DELETE FROM stores WHERE id = 'SNAPSHOT-TEST'"))
            await writer.commit()
        await database.dispose()

    assert isolation == "repeatable read"
    assert after == before


async def test_the_connections_a_report_opens_beside_its_own_read_the_same_snapshot(
    postgres_url: str,
) -> None:
    database = Database(postgres_url)
    try:
        async with database.reading() as session, ReadingContext(session, ASKED) as context:
            first = await context.execute(text("SELECT count(*), pg_backend_pid() FROM stores"))
            before, own_pid = first.one()
            async with database.writing() as writer:
                await writer.execute(text(INSERT_STORE))
                await writer.commit()
            # The session's connection busy, a statement meanwhile opens another one.
            busy = asyncio.create_task(context.scalar(text("SELECT pg_sleep(0.3)")))
            await asyncio.sleep(0.05)
            beside = await context.execute(
                text(
                    "SELECT count(*), pg_backend_pid(), current_setting('transaction_isolation'),"
                    " current_setting('max_parallel_workers_per_gather') FROM stores"
                )
            )
            await busy
            after, pid, isolation, workers = beside.one()
    finally:
        async with database.writing() as writer:
            await writer.execute(text("DELETE FROM stores WHERE id = 'SNAPSHOT-TEST'"))
            await writer.commit()
        await database.dispose()

    assert pid != own_pid  # read on another connection
    assert (isolation, workers) == ("repeatable read", "0")
    assert after == before  # the store committed meanwhile is not in the snapshot
