"""Benchmark: one bulk award to every customer, balance events included.

Migrates the given PostgreSQL database and inserts N customers set-based (setup,
timed apart), subscribes a sample of them to their balance topic through a hub fed
by one RedisBroker listener (as a server process does), creates one bulk award job
to `Segment(everyone=True)` and runs concurrent loops of `award_next_batch` until
nothing is pending. Prints: the job's creation time; the award time (job creation
to the last batch committed and published) and rate; the time until every sampled
subscriber had its award; and checks that every customer was awarded exactly once.

    createdb -h 127.0.0.1 -U postgres bench_bulk
    .venv/bin/python bench/bulk_award.py \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1/bench_bulk
    dropdb -h 127.0.0.1 -U postgres bench_bulk

Run it on a fresh database. A measurement: it prints figures and checks, and exits
with status 1 only when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy import func, insert, select

from domain.campaigns import BulkAwardPoints, BulkAwardStatus, Segment
from domain.events import BalanceChanged, Event
from domain.ledger import TransactionKind
from domain.use_cases import campaigns
from persistence.database import Database
from persistence.migrate import upgrade_to_head
from persistence.models import BulkAwardRow, CustomerRow, JournalEntryRow, JournalLineRow
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from subscriptions.broker import RedisBroker
from subscriptions.channels import balance_changes, customer_topic
from subscriptions.hub import Hub

INSERT_CHUNK = 10_000
SUBSCRIBERS_TIMEOUT_SECONDS = 120.0


class CountingHub(Hub):
    """A hub that also counts what the listener brought in: every award's event, sampled
    or not, has to come through Redis."""

    def __init__(self) -> None:
        super().__init__()
        self.received = 0

    def deliver(self, events: Sequence[Event]) -> None:
        self.received += len(events)
        super().deliver(events)


@dataclass(frozen=True)
class Check:
    name: str
    detail: str
    passed: bool

    def line(self) -> str:
        return f"{self.name:<23}{'ok' if self.passed else 'FAILED'}: {self.detail}"


@dataclass
class Timings:
    setup: float = 0.0
    creation: float = 0.0
    award: float = 0.0
    seen: float = float("nan")
    started_at: float = 0.0
    last_commit_at: float = 0.0
    batches: int = 0
    delivered: int = 0
    last_seen_at: float = 0.0


async def insert_customers(database: Database, count: int) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    now = datetime.now(UTC)
    async with database.engine.begin() as connection:
        for start in range(0, count, INSERT_CHUNK):
            rows = [
                {
                    "id": customer_id,
                    "card_number": f"BENCH{start + n:09d}",
                    "balance": 0,
                    "balance_version": 0,
                    "lifetime_earned": 0,
                    "points_owed": 0,
                    "enrolled_at": now,
                }
                for n, customer_id in enumerate(ids[start : start + INSERT_CHUNK])
            ]
            await connection.execute(insert(CustomerRow), rows)
    return ids


async def subscribe(hub: Hub, customer_id: str, points: int, timings: Timings) -> None:
    async with hub.subscription(customer_topic(customer_id)) as subscription:
        delivery = await subscription.next()
    if isinstance(delivery, BalanceChanged) and delivery.posted.entry.balance_after == points:
        timings.delivered += 1
        timings.last_seen_at = time.monotonic()


async def wait_listening(client: Redis, channel: str) -> None:
    """The listener subscribes in its own task: awards published before that are lost."""
    for _ in range(200):
        if dict(await client.pubsub_numsub(channel)).get(channel.encode(), 0):
            return
        await asyncio.sleep(0.05)
    raise SystemExit("the Redis listener did not subscribe")


async def work(database: Database, broker: RedisBroker, batch_size: int, t: Timings) -> None:
    """A worker loop as the app's BulkAwardWorker drains, minus its retry on failure."""
    while True:
        uow = SqlAlchemyUnitOfWork(database, broker)
        if not await campaigns.award_next_batch(uow, batch_size, datetime.now(UTC)):
            return
        t.batches += 1
        t.last_commit_at = time.monotonic()


async def award(
    database: Database, broker: RedisBroker, arguments: argparse.Namespace, t: Timings
) -> str:
    command = BulkAwardPoints(
        idempotency_key=f"bench-{uuid.uuid4()}",
        customer_ids=(),
        points=arguments.points,
        reason="bench",
        campaign_id="BENCH",
        requested_at=datetime.now(UTC),
        segment=Segment(everyone=True),
    )
    t.started_at = time.monotonic()
    job = await campaigns.bulk_award_points(SqlAlchemyUnitOfWork(database, broker), command)
    t.creation = time.monotonic() - t.started_at
    loops = [work(database, broker, arguments.batch_size, t) for _ in range(arguments.workers)]
    await asyncio.gather(*loops)
    t.award = t.last_commit_at - t.started_at
    return job.id


async def checks(database: Database, job_id: str, customers: int, points: int) -> list[Check]:
    awards = (
        select(JournalEntryRow.customer_id, func.count().label("entries"))
        .where(JournalEntryRow.kind == TransactionKind.BULK_AWARD.value)
        .group_by(JournalEntryRow.customer_id)
        .subquery()
    )
    unbalanced = (
        select(JournalLineRow.entry_id)
        .group_by(JournalLineRow.entry_id)
        .having(func.sum(JournalLineRow.amount) != 0)
        .subquery()
    )
    async with database.reading() as session:
        once = await session.scalar(
            select(func.count())
            .select_from(CustomerRow)
            .join(awards, awards.c.customer_id == CustomerRow.id)
            .where(awards.c.entries == 1)
        )
        balanced = await session.scalar(
            select(func.count()).where(
                CustomerRow.balance == points, CustomerRow.balance_version == 1
            )
        )
        total = await session.scalar(select(func.coalesce(func.sum(JournalLineRow.amount), 0)))
        unbalanced_entries = await session.scalar(select(func.count()).select_from(unbalanced))
        job = await session.get(BulkAwardRow, job_id)
    assert job is not None, "the job is gone"
    finished = job.status == BulkAwardStatus.COMPLETED.value and job.failed_customers == 0
    return [
        Check("awarded exactly once", f"{once} of {customers} customers", once == customers),
        Check("balances = points", f"{balanced} of {customers}", balanced == customers),
        Check(
            "journal sums to zero",
            f"sum {total}, {unbalanced_entries} unbalanced entries",
            total == 0 and unbalanced_entries == 0,
        ),
        Check(
            "job completed",
            f"{job.status}, awarded {job.awarded_customers}, failed {job.failed_customers}",
            finished and job.awarded_customers == customers,
        ),
    ]


async def run(arguments: argparse.Namespace) -> bool:
    timings = Timings()
    started = time.monotonic()
    await asyncio.to_thread(upgrade_to_head, arguments.database_url)
    database = Database(arguments.database_url, pool_size=arguments.workers + 2)
    customer_ids = await insert_customers(database, arguments.customers)
    timings.setup = time.monotonic() - started
    hub, prefix = CountingHub(), f"bench-bulk-{uuid.uuid4().hex[:8]}"
    client = Redis.from_url(arguments.redis_url, client_name=f"{prefix}:bench")
    broker = RedisBroker(hub, client, prefix)
    listener = asyncio.create_task(broker.run())
    sample = random.sample(customer_ids, min(arguments.sample, len(customer_ids)))
    watchers = [
        asyncio.create_task(subscribe(hub, customer_id, arguments.points, timings))
        for customer_id in sample
    ]
    try:
        await asyncio.sleep(0)  # each watcher runs up to waiting on its subscription
        if hub.subscriber_count() != len(sample):
            raise SystemExit("the sampled customers are not all subscribed")
        await wait_listening(client, balance_changes(prefix))
        job_id = await award(database, broker, arguments, timings)
        await asyncio.wait(watchers, timeout=SUBSCRIBERS_TIMEOUT_SECONDS)
        if timings.delivered:
            timings.seen = timings.last_seen_at - timings.started_at
        verdicts = await checks(database, job_id, arguments.customers, arguments.points)
    finally:
        for task in [*watchers, listener]:
            task.cancel()
        await broker.close()
        await database.dispose()
    report(arguments, timings, len(sample), hub.received, verdicts)
    return all(check.passed for check in verdicts)


def report(
    arguments: argparse.Namespace,
    t: Timings,
    sampled: int,
    received: int,
    verdicts: list[Check],
) -> None:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    customers = arguments.customers
    lines = [
        f"customers              {customers} (inserted and migrated in {t.setup:.1f} s, "
        "not measured)",
        f"batches                {t.batches} of {arguments.batch_size}, "
        f"{arguments.workers} concurrent worker(s)",
        f"job creation           {t.creation:.2f} s (segment everyone: {customers} recipients)",
        f"award                  {t.award:.1f} s from job creation to the last batch committed "
        f"and published ({customers / max(t.award, 1e-9):.0f} customers/s)",
        f"sampled subscribers    all saw their award {t.seen:.1f} s after job creation; "
        f"{t.delivered} of {sampled} delivered",
        f"events via Redis       {received} of {customers} reached the listener",
        f"peak memory            {peak / 2**20:.0f} MiB resident (this process)",
        *(check.line() for check in verdicts),
    ]
    sys.stdout.write("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="concurrent award loops")
    parser.add_argument("--sample", type=int, default=1000, help="customers subscribed")
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--database-url", required=True, help="postgresql+asyncpg://...")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    if not asyncio.run(run(parser.parse_args())):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
