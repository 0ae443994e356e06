"""Bulk awards across real `loyalty serve` processes on one PostgreSQL: a worker killed with
SIGKILL in the middle of a job leaves every customer awarded once or not yet, another
process finishes the job, and workers running side by side never award anyone twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import (
    ColumnExpressionArgument,
    SQLColumnExpression,
    String,
    cast,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from domain.campaigns import BulkAward, BulkAwardPoints, BulkAwardStatus, RecipientStatus, Segment
from domain.ledger import TransactionKind
from domain.use_cases import campaigns
from persistence.campaigns import SqlAlchemyBulkAwardRepository
from persistence.database import Database
from persistence.models import (
    BulkAwardRecipientRow,
    CustomerRow,
    JournalEntryRow,
    JournalLineRow,
    PointLotRow,
)
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from subscriptions.broker import InProcessBroker
from subscriptions.hub import Hub
from tests.integration.test_processes import STARTUP_SECONDS, free_port, healthy, wait_until

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
CUSTOMERS = 3_000
POINTS = 25
# Small batches make the job last long enough (60 transactions) to be caught midway.
WORKER_SETTINGS = {"LOYALTY_BULK_AWARD_BATCH_SIZE": "50", "LOYALTY_JOB_POLL_SECONDS": "0.1"}
FINISH_SECONDS = 60.0
MIDWAY_SECONDS = 30.0
LOG_TAIL = 2_000
BATCH_LOCKS = text(
    "SELECT EXISTS (SELECT FROM pg_locks WHERE relation = 'customers'::regclass"
    " AND mode = 'RowShareLock' AND granted AND pid <> pg_backend_pid())"
)


@contextmanager
def worker_process(database_url: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`loyalty serve` with small bulk award batches; unlike test_processes.server it hands
    back the process, so a test can kill it, and it is killed at the end whatever happened."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    env |= WORKER_SETTINGS | {"LOYALTY_DATABASE_URL": database_url, "LOYALTY_LOG_LEVEL": "WARNING"}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: healthy(f"http://127.0.0.1:{port}"), STARTUP_SECONDS, "the server")
        yield process
    except Exception as error:
        error.add_note(f"{log} ends:\n{log.read_text(errors='replace')[-LOG_TAIL:]}")
        raise
    finally:
        process.kill()
        process.wait(timeout=10)


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL: no lifespan shutdown, no rollback sent; PostgreSQL sees the sockets drop."""
    process.kill()
    assert process.wait(timeout=10) == -signal.SIGKILL


async def enrol_set_based(database: Database, count: int) -> None:
    numbers = func.generate_series(1, count).table_valued("n")
    enrolled_at = literal(NOW, type_=CustomerRow.__table__.c.enrolled_at.type)
    rows = select(
        cast(func.gen_random_uuid(), String), literal(0), literal(0), literal(0), enrolled_at
    ).select_from(numbers)
    columns = ["id", "balance", "balance_version", "lifetime_earned", "enrolled_at"]
    async with database.writing() as session, session.begin():
        await session.execute(insert(CustomerRow).from_select(columns, rows))


async def start_job_for_everyone(database: Database) -> BulkAward:
    command = BulkAwardPoints(
        "kill-resume", (), POINTS, "promo", "CAMPAIGN-1", NOW, segment=Segment(everyone=True)
    )
    uow = SqlAlchemyUnitOfWork(database, InProcessBroker(Hub()))
    job = await campaigns.bulk_award_points(uow, command)
    assert job.total_customers == CUSTOMERS
    return job


@dataclass(frozen=True)
class Books:
    """The job and the ledger, read in one snapshot."""

    job: BulkAward
    awarded_recipients: int
    award_entries: dict[str, int]
    award_points: set[int]
    balances: dict[str, int]
    open_lots: dict[str, int]
    journal_total: int
    unbalanced_entries: int


async def books(database: Database, job_id: str) -> Books:
    snapshot = database.engine.execution_options(isolation_level="REPEATABLE READ")
    async with AsyncSession(snapshot) as session:
        award = JournalEntryRow.kind == TransactionKind.BULK_AWARD.value
        return Books(
            job=await job_of(session, job_id),
            awarded_recipients=await awarded_recipients(session, job_id),
            award_entries=await per_customer(
                session, JournalEntryRow.customer_id, func.count(), award
            ),
            award_points=set(
                await session.scalars(select(JournalEntryRow.points).where(award).distinct())
            ),
            balances=await per_customer(session, CustomerRow.id, CustomerRow.balance),
            open_lots=await per_customer(
                session, PointLotRow.customer_id, func.sum(PointLotRow.remaining)
            ),
            journal_total=int(await session.scalar(select(func.sum(JournalLineRow.amount))) or 0),
            unbalanced_entries=await unbalanced_entries(session),
        )


async def job_of(session: AsyncSession, job_id: str) -> BulkAward:
    job = await SqlAlchemyBulkAwardRepository(session).get(job_id)
    assert job is not None
    return job


async def awarded_recipients(session: AsyncSession, job_id: str) -> int:
    awarded = select(func.count()).where(
        BulkAwardRecipientRow.bulk_award_id == job_id,
        BulkAwardRecipientRow.status == RecipientStatus.AWARDED.value,
    )
    return int(await session.scalar(awarded) or 0)


async def per_customer(
    session: AsyncSession,
    customer: SQLColumnExpression[str],
    value: SQLColumnExpression[int],
    *where: ColumnExpressionArgument[bool],
) -> dict[str, int]:
    """By customer (grouping by the customers' primary key still selects their columns)."""
    query = select(customer, value).where(*where).group_by(customer)
    return {str(key): int(amount) for key, amount in (await session.execute(query)).all()}


async def unbalanced_entries(session: AsyncSession) -> int:
    entries = select(JournalLineRow.entry_id).group_by(JournalLineRow.entry_id)
    unbalanced = entries.having(func.sum(JournalLineRow.amount) != 0).subquery()
    return int(await session.scalar(select(func.count()).select_from(unbalanced)) or 0)


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


async def midway(database: Database, job_id: str) -> bool:
    async with database.reading() as session:
        job = await job_of(session, job_id)
    return 0 < job.awarded_customers < job.total_customers


async def completed(database: Database, job_id: str) -> bool:
    async with database.reading() as session:
        job = await job_of(session, job_id)
    return job.status is BulkAwardStatus.COMPLETED


async def batch_under_way(database: Database) -> bool:
    """Another connection has locked customers FOR UPDATE and not committed: a batch has
    taken its recipients and is awarding them (nothing else locks customers here)."""
    async with database.reading() as session:
        held = await session.scalar(BATCH_LOCKS)
    return bool(held)


def assert_nothing_half_done(state: Books) -> None:
    """Every customer holds as many awards as recipients marked awarded, at most one."""
    assert state.job.status is not BulkAwardStatus.COMPLETED
    assert 0 < state.job.awarded_customers < CUSTOMERS
    assert max(state.award_entries.values()) == 1
    assert state.awarded_recipients == state.job.awarded_customers == len(state.award_entries)
    assert state.balances == {
        customer: POINTS * state.award_entries.get(customer, 0) for customer in state.balances
    }
    assert state.open_lots == dict.fromkeys(state.award_entries, POINTS)
    assert state.journal_total == state.unbalanced_entries == 0


def assert_everyone_awarded_once(state: Books) -> None:
    assert state.job.status is BulkAwardStatus.COMPLETED
    assert state.job.awarded_customers == state.job.total_customers == CUSTOMERS
    assert state.job.failed_customers == 0
    assert state.awarded_recipients == CUSTOMERS
    assert len(state.balances) == CUSTOMERS
    assert state.award_entries == dict.fromkeys(state.balances, 1)
    assert state.award_points == {POINTS}
    assert state.balances == state.open_lots == dict.fromkeys(state.balances, POINTS)
    assert state.journal_total == state.unbalanced_entries == 0


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_job_whose_worker_is_killed_midway_is_finished_by_another_process(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    await enrol_set_based(database, CUSTOMERS)
    with worker_process(database_url, tmp_path / "a.log") as first:
        job = await start_job_for_everyone(database)
        await eventually(lambda: midway(database, job.id), MIDWAY_SECONDS, "the job midway")
        await eventually(lambda: batch_under_way(database), MIDWAY_SECONDS, "a batch under way")
        kill(first)

    assert_nothing_half_done(await books(database, job.id))

    with worker_process(database_url, tmp_path / "b.log"):
        await eventually(lambda: completed(database, job.id), FINISH_SECONDS, "completion")
    assert_everyone_awarded_once(await books(database, job.id))


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_processes_working_one_job_at_once_award_each_customer_once(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    await enrol_set_based(database, CUSTOMERS)
    with (
        worker_process(database_url, tmp_path / "a.log"),
        worker_process(database_url, tmp_path / "b.log"),
    ):
        job = await start_job_for_everyone(database)
        await eventually(lambda: completed(database, job.id), FINISH_SECONDS, "completion")
    assert_everyone_awarded_once(await books(database, job.id))
