"""Benchmark: analytics over two years of a programme, read from the rollups.

Generates, directly in PostgreSQL and set-based, N journal entries (1 million customers,
50 stores of different sizes, two years with weekly and yearly seasonality, a mix of
EARN 60%, REDEEM 20%, BULK_AWARD 8%, REVERSAL 5%, EXPIRE 4%, ADJUST 3%) with their lines,
sales, redemptions, lot spends, refunds, bulk awards and guest sales (not sale_lines nor
earn_contributions: analytics read neither); rebuilds the rollups with the rollup worker
and times it (for --worker-minutes: what is left then is filled set-based, see
bench/analytics_fill.py); adds a fresh day of activity and times how fast the worker
catches up; then
times each analytics query (month, quarter, two years; by day and by month; one store and
all) through `rollup_report` and through the GraphQL endpoint, beside the same totals
computed from the raw journal as the plain reference.

    createdb -h 127.0.0.1 -U postgres bench_analytics
    .venv/bin/python bench/analytics.py            # or: make bench-analytics
    .venv/bin/python bench/analytics.py --skip-generate --skip-rollups   # queries again

Every step records itself in the table bench_progress: interrupted (Ctrl-C), a run picks
up after the last month generated, and counts what the inbox still holds. A measurement:
it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime

from analytics_data import (
    BALANCES,
    SETUP,
    Plan,
    day_counts,
    done_steps,
    generate_days,
    prepare,
    record,
    recorded_plan,
    run_all,
    setup,
)
from analytics_rollups import (
    build_rollups,
    catch_up,
    console,
    fill_rollups,
    progress_bar,
    session_for_bulk,
    steps,
)
from analytics_timing import Runner, app_for, cases, client_for, print_figures, time_queries
from sqlalchemy import text

from persistence.database import Database
from persistence.migrate import upgrade_to_head

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1/bench_analytics"


async def generate(database: Database, plan: Plan) -> float:
    """Generate what is not generated yet: how long it took (this run)."""
    started = time.monotonic()
    async with database.engine.connect() as connection:
        await session_for_bulk(connection)
        await prepare(connection, plan)
        await connection.commit()
        done = await done_steps(connection)
        if "setup" not in done:
            console.print(f"customers: inserting {plan.customers:,}")
            await setup(connection, plan)
            await record(connection, "setup")
            await connection.commit()
        chunks = plan.chunks()
        with progress_bar() as progress:
            task = progress.add_task("generating months", total=len(chunks))
            for number, (month, days) in enumerate(chunks):
                if f"month:{month}" in done:
                    progress.advance(task)
                    continue
                progress.update(task, description=f"generating {month}")
                await generate_days(
                    connection, plan, days, day_counts(plan, days), seed=number / 97
                )
                await record(connection, f"month:{month}")
                await connection.commit()
                progress.advance(task)
        if "balances" not in done:
            console.print("balances: max(0, sum of each customer's entries); ANALYZE")
            await connection.execute(text(BALANCES))
            await record(connection, "balances")
            await connection.commit()
            await connection.execute(text("ANALYZE"))
    return time.monotonic() - started


async def dataset(database: Database) -> list[str]:
    """What the database holds, counted."""
    async with database.reading() as session:
        kinds = (
            await session.execute(
                text("SELECT kind, count(*) FROM journal_entries GROUP BY kind ORDER BY 2 DESC")
            )
        ).all()
        counts = {
            table: int(await session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
            for table in (
                "customers",
                "stores",
                "journal_lines",
                "sales",
                "redemptions",
                "lot_spends",
                "refunds",
                "bulk_awards",
                "bulk_award_recipients",
                "guest_sales",
            )
        }
        size = await session.scalar(
            text("SELECT pg_size_pretty(pg_database_size(current_database()))")
        )
    entries = sum(int(count) for _, count in kinds)
    mix = ", ".join(f"{kind} {int(count) / entries:.1%}" for kind, count in kinds)
    return [
        f"journal entries        {entries:,} ({mix})",
        *(f"{table:<23}{count:,}" for table, count in counts.items()),
        f"database size          {size}",
        "not generated          sale_lines, earn_contributions (analytics read neither)",
    ]


async def run(arguments: argparse.Namespace) -> None:
    url = arguments.database_url
    await asyncio.to_thread(upgrade_to_head, url)
    database = Database(url, pool_size=4)
    try:
        plan = await plan_of(database, arguments)
        regenerated = False
        if not arguments.skip_generate:
            before = await steps(database)
            seconds = await generate(database, plan)
            regenerated = await steps(database) != before
            console.print(f"generation: {seconds:.0f} s this run")
        for line in await dataset(database):
            console.print(line)
        if not arguments.skip_rollups:
            await rollups(database, arguments, regenerated)
        if arguments.fresh_entries:
            fresh = await catch_up(
                database,
                plan,
                arguments.fresh_entries,
                arguments.batch_size,
                arguments.worker_minutes,
            )
            console.print(
                f"catch-up (worker): a fresh day of {fresh.entries:,} entries, "
                f"{fresh.rows:,} inbox rows with its sales and guest sales; "
                f"{fresh.counted.rows:,} counted in {fresh.counted.seconds:.1f} s "
                f"({fresh.counted.per_second:,.0f} rows/s, {fresh.entries_per_second:,.0f} "
                f"entries/s with their sales); {fresh.left:,} left"
            )
        await queries(database, url, plan, arguments.repeat)
    finally:
        await database.dispose()


async def rollups(database: Database, arguments: argparse.Namespace, regenerated: bool) -> None:
    """The worker's rebuild, timed; what it could not count in time is filled set-based."""
    rate, left = await build_rollups(
        database, arguments.batch_size, regenerated, arguments.worker_minutes
    )
    console.print(
        f"rollup rebuild (worker): {rate.rows:,} inbox rows in {rate.seconds:.0f} s "
        f"({rate.per_second:,.0f} rows/s, batches of {arguments.batch_size:,}); {left:,} left"
    )
    if left:
        if rate.rows:
            hours = left / rate.per_second / 3600
            console.print(f"  at that rate the {left:,} rows left would take {hours:.1f} h more")
        console.print("  the bench fills the rollups set-based instead (bench/analytics_fill.py)")
        seconds = await fill_rollups(database)
        console.print(f"rollups filled set-based in {seconds:.0f} s")


async def plan_of(database: Database, arguments: argparse.Namespace) -> Plan:
    """The plan recorded in the database, or the one the arguments ask for."""
    async with database.engine.begin() as connection:
        await run_all(connection, SETUP, {})
        known = await recorded_plan(connection)
    if known is not None:
        return known
    if arguments.skip_generate:
        raise SystemExit("--skip-generate: this database holds no generated data")
    end = datetime.now(UTC).date().replace(day=1)
    return Plan(arguments.entries, arguments.customers, arguments.stores, arguments.days, str(end))


async def queries(database: Database, url: str, plan: Plan, repeat: int) -> None:
    settings, app = app_for(url)
    chosen = cases(plan.end_at, "S01")
    async with app.router.lifespan_context(app):
        client, tokens = client_for(settings, app)
        async with client:
            runner = Runner(database, client, tokens)
            with progress_bar() as progress:
                task = progress.add_task("timing queries", total=len(chosen) * repeat)
                results = await time_queries(runner, chosen, repeat, lambda: progress.advance(task))
    print_figures(console, results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--stores", type=int, default=50)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--repeat", type=int, default=20, help="timed runs of each query")
    parser.add_argument("--batch-size", type=int, default=20_000, help="inbox rows a batch")
    parser.add_argument(
        "--fresh-entries", type=int, default=100_000, help="a fresh day's entries (0: none)"
    )
    parser.add_argument(
        "--skip-generate", action="store_true", help="use the data there (resume nothing)"
    )
    parser.add_argument("--skip-rollups", action="store_true", help="use the rollups there")
    parser.add_argument(
        "--worker-minutes",
        type=float,
        default=10.0,
        help="how long the rollup worker rebuilds before the rest is filled set-based",
    )
    try:
        asyncio.run(run(parser.parse_args()))
    except KeyboardInterrupt:
        # Each month and each batch commits alone: what was committed stays.
        sys.stdout.write("Stopped; run again (with --skip-generate once generated) to resume.\n")
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
