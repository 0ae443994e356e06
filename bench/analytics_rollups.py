"""The analytics benchmark's rollups: the worker's rebuild and catch-up, timed, and the
set-based fill of what the worker could not count in time."""

from __future__ import annotations

import ast
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from analytics_data import Plan, done_steps, fresh_day_counts, generate_days, record
from analytics_fill import FILL
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from persistence.analytics.inbox import Counted
from persistence.analytics.rebuild import ROLLUPS, reset_rollups, waiting
from persistence.analytics.tally import Zones
from persistence.base import table_of
from persistence.database import Database
from workers.rollups import RollupWorker

# Wide enough for the figures' table when the output goes to a file.
console = Console(width=None if sys.stdout.isatty() else 170)
INBOX_SOURCES = {
    "journal_entries": Counted.ENTRY,
    "sales": Counted.SALE,
    "guest_sales": Counted.GUEST_SALE,
}


class Unheard:
    """Where the worker would tell stores their tiles changed: nobody listens here."""

    async def publish(self, events: object) -> None:
        del events


@dataclass(frozen=True)
class Rate:
    rows: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.rows / max(self.seconds, 1e-9)


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


async def session_for_bulk(connection: AsyncConnection) -> None:
    for setting in ("synchronous_commit = off", "work_mem = '128MB'", "temp_buffers = '512MB'"):
        await connection.execute(text(f"SET {setting}"))


def rollup_worker(database: Database, batch_size: int) -> RollupWorker:
    return RollupWorker(
        database, Unheard(), lambda: datetime.now(UTC), Zones(("UTC",)), 1.0, batch_size
    )


async def steps(database: Database) -> set[str]:
    async with database.engine.connect() as connection:
        return await done_steps(connection)


async def mark_step(database: Database, step: str, detail: str = "") -> None:
    async with database.engine.begin() as connection:
        await record(connection, step, detail)


async def drain(
    worker: RollupWorker, total: int, description: str, minutes: float | None = None
) -> Rate:
    """Count the inbox until it is empty (or for `minutes`), a batch per transaction, timed."""
    counted, started = 0, time.monotonic()
    deadline = None if minutes is None else started + minutes * 60
    with progress_bar() as progress:
        task = progress.add_task(description, total=total)
        while deadline is None or time.monotonic() < deadline:
            rows = await worker.count_once()
            if not rows:
                break
            counted += rows
            progress.advance(task, rows)
    return Rate(counted, time.monotonic() - started)


async def build_rollups(
    database: Database, batch_size: int, regenerated: bool, minutes: float
) -> tuple[Rate, int]:
    """Rebuild the rollups with the worker, from the raw rows (or finish a rebuild that was
    interrupted), for at most `minutes`: its rate, and the inbox rows left."""
    done = await steps(database)
    worker = rollup_worker(database, batch_size)
    if "rollups:reset" in done and "rollups" not in done and not regenerated:
        total = await waiting(database)
        console.print(f"rollups: resuming an interrupted rebuild, {total:,} inbox rows left")
    else:
        started = time.monotonic()
        total = await reset_rollups(database)
        console.print(
            f"rollups: reset and {total:,} rows enqueued in {time.monotonic() - started:.1f} s"
        )
        async with database.engine.begin() as connection:
            await connection.execute(text("DELETE FROM bench_progress WHERE step = 'rollups'"))
            await record(connection, "rollups:reset", str(total))
    rate = await drain(worker, total, "rollup worker: counting the inbox", minutes)
    left = await waiting(database)
    if not left:
        await mark_step(database, "rollups", f"{rate.rows} rows in {rate.seconds:.1f} s")
    return rate, left


async def fill_rollups(database: Database) -> float:
    """The rollups from the raw rows, set-based (bench/analytics_fill.py): how long it took."""
    started = time.monotonic()
    async with database.engine.connect() as connection:
        await session_for_bulk(connection)
        with progress_bar() as progress:
            task = progress.add_task("filling the rollups", total=len(FILL))
            for name, statement in FILL:
                progress.update(task, description=f"filling: {name}")
                await connection.execute(text(statement))
                progress.advance(task)
        await record(connection, "rollups", "filled set-based")
        await connection.commit()
    await vacuum_rollups(database)
    return time.monotonic() - started


async def vacuum_rollups(database: Database) -> None:
    """VACUUM the filled rollups, as autovacuum would soon after: their index-only scans
    then read no heap page."""
    async with database.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        with progress_bar() as progress:
            task = progress.add_task("vacuuming the rollups", total=len(ROLLUPS))
            for model in ROLLUPS:
                name = table_of(model).name
                progress.update(task, description=f"vacuuming: {name}")
                await autocommit.execute(text(f"VACUUM (ANALYZE) {name}"))
                progress.advance(task)


async def max_id(connection: AsyncConnection, table: str) -> int:
    return int(await connection.scalar(text(f"SELECT coalesce(max(id), 0) FROM {table}")) or 0)


ENQUEUE = """INSERT INTO analytics_inbox (kind, ref)
    SELECT :kind, id::text FROM {table} WHERE id > :after ORDER BY id"""


async def add_fresh_day(database: Database, plan: Plan, entries: int) -> tuple[int, int]:
    """A day of activity after the window, with its inbox rows as the app writes them:
    (journal entries, inbox rows) added."""
    day = plan.end_at.date() + timedelta(days=len(await fresh_days(database)))
    async with database.engine.connect() as connection:
        await session_for_bulk(connection)
        after = {table: await max_id(connection, table) for table in INBOX_SOURCES}
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
        await generate_days(
            connection, plan, [day], fresh_day_counts(entries), seed=0.5, window_end=end
        )
        added = {}
        for table, kind in INBOX_SOURCES.items():
            result = await connection.execute(
                text(ENQUEUE.format(table=table)), {"kind": kind.value, "after": after[table]}
            )
            added[table] = result.rowcount
        await record(connection, f"fresh:{day.isoformat()}", str(added))
        await connection.commit()
    return added["journal_entries"], sum(added.values())


async def fresh_days(database: Database) -> list[str]:
    return sorted(step for step in await steps(database) if step.startswith("fresh:"))


@dataclass(frozen=True)
class CatchUp:
    entries: int  # the fresh day's journal entries
    rows: int  # its inbox rows (entries, sales, guest sales)
    counted: Rate  # inbox rows counted, and how long it took
    left: int

    @property
    def entries_per_second(self) -> float:
        """The day's entries, with their sales, counted per second."""
        return self.counted.per_second * self.entries / max(self.rows, 1)


async def catch_up(
    database: Database, plan: Plan, entries: int, batch_size: int, minutes: float
) -> CatchUp:
    """How fast the worker counts a fresh day into rollups of the whole history (for at
    most `minutes`; a day left uncounted by an interrupted run is counted, not added)."""
    left = await waiting(database)
    if left:
        console.print(f"catch-up: {left:,} inbox rows still wait: counting them, no new day")
        fresh = await fresh_days(database)
        detail = ast.literal_eval((await step_detail(database, fresh[-1])) or "{}")
        added_entries, rows = detail.get("journal_entries", 0), left
    else:
        added_entries, rows = await add_fresh_day(database, plan, entries)
    worker = rollup_worker(database, batch_size)
    counted = await drain(worker, rows, "rollup worker: catching up", minutes)
    return CatchUp(added_entries, rows, counted, await waiting(database))


async def step_detail(database: Database, step: str) -> str | None:
    async with database.engine.connect() as connection:
        found = await connection.scalar(
            text("SELECT detail FROM bench_progress WHERE step = :step"), {"step": step}
        )
    return None if found is None else str(found)
