"""Bulk award workers: a batch that dies leaves nothing half-done; workers never double-award."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.campaigns import BulkAwardPoints, Segment
from domain.customers import EnrollCustomer, Identifiers
from domain.ledger import JournalEntry, PostedEntry
from domain.use_cases import campaigns, customers
from persistence.database import Database
from persistence.journal import SqlAlchemyJournalRepository
from persistence.models import BulkAwardRow, CustomerRow, JournalEntryRow, JournalLineRow
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from subscriptions.broker import InProcessBroker
from subscriptions.hub import Hub

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
EVERYONE = Segment(everyone=True)


class WorkerDied(Exception):
    pass


class JournalThatDiesAfterPosting(SqlAlchemyJournalRepository):
    """Stands in for a process killed in the middle of a batch: the batch's entries are
    written, then the process is gone before the recipients are marked and it commits."""

    async def add_many(self, entries: Sequence[JournalEntry]) -> list[PostedEntry]:
        await super().add_many(entries)
        raise WorkerDied


class DyingUnitOfWork(SqlAlchemyUnitOfWork):
    def _attach_repositories(self, session: AsyncSession) -> None:
        super()._attach_repositories(session)
        self.journal = JournalThatDiesAfterPosting(session)


async def enrol_many(database: Database, count: int) -> list[str]:
    ids = []
    for n in range(count):
        command = EnrollCustomer(None, Identifiers(card_number=f"CARD{n:05d}"), NOW)
        ids.append(
            (
                await customers.enroll_customer(
                    SqlAlchemyUnitOfWork(database, InProcessBroker(Hub())), command
                )
            ).id
        )
    return ids


async def start_job(database: Database, customer_ids: list[str], key: str = "job") -> str:
    command = BulkAwardPoints(key, tuple(customer_ids), 25, "promo", "CAMPAIGN-1", NOW)
    job = await campaigns.bulk_award_points(
        SqlAlchemyUnitOfWork(database, InProcessBroker(Hub())), command
    )
    return job.id


async def award_entries_per_customer(database: Database) -> dict[str, int]:
    async with database.reading() as session:
        rows = await session.execute(
            select(JournalEntryRow.customer_id, func.count())
            .where(JournalEntryRow.kind == "BULK_AWARD")
            .group_by(JournalEntryRow.customer_id)
        )
        return {str(customer_id): int(count) for customer_id, count in rows.all()}


async def test_a_batch_killed_midway_awards_nobody_and_the_next_worker_finishes_the_job(
    database: Database,
) -> None:
    customers = await enrol_many(database, 12)
    await start_job(database, customers)

    with pytest.raises(WorkerDied):
        await campaigns.award_next_batch(DyingUnitOfWork(database, InProcessBroker(Hub())), 10, NOW)
    assert await award_entries_per_customer(database) == {}

    while await campaigns.award_next_batch(
        SqlAlchemyUnitOfWork(database, InProcessBroker(Hub())), 5, NOW
    ):
        pass

    assert await award_entries_per_customer(database) == dict.fromkeys(customers, 1)


async def test_concurrent_workers_award_each_customer_exactly_once(database: Database) -> None:
    customers = await enrol_many(database, 40)
    await start_job(database, customers)
    workers = [Database(database.url) for _ in range(3)]

    async def drain(worker_database: Database) -> None:
        uow = SqlAlchemyUnitOfWork(worker_database, InProcessBroker(Hub()))
        while await campaigns.award_next_batch(uow, 4, NOW):
            pass

    try:
        await asyncio.gather(*(drain(worker) for worker in workers))
    finally:
        for worker in workers:
            await worker.dispose()

    assert await award_entries_per_customer(database) == dict.fromkeys(customers, 1)
    async with database.reading() as session:
        balances = set((await session.execute(select(CustomerRow.balance))).scalars())
        promotions = await session.scalar(
            select(func.sum(JournalLineRow.amount)).where(
                JournalLineRow.account == "programme:promotions:CAMPAIGN-1"
            )
        )
    assert balances == {25}
    assert promotions == -25 * 40


@pytest.mark.parametrize("by_segment", [False, True], ids=["ids", "segment"])
async def test_racing_requests_under_one_key_create_one_job_and_award_once(
    database: Database, by_segment: bool
) -> None:
    customers = await enrol_many(database, 30)
    if by_segment:
        command = BulkAwardPoints("race", (), 25, "promo", None, NOW, segment=EVERYONE)
    else:
        command = BulkAwardPoints("race", tuple(customers), 25, "promo", None, NOW)
    tills = [Database(database.url) for _ in range(8)]

    async def request(till: Database) -> str:
        uow = SqlAlchemyUnitOfWork(till, InProcessBroker(Hub()))
        return (await campaigns.bulk_award_points(uow, command)).id

    try:
        job_ids = await asyncio.gather(*(request(till) for till in tills))
    finally:
        for till in tills:
            await till.dispose()
    uow = SqlAlchemyUnitOfWork(database, InProcessBroker(Hub()))
    while await campaigns.award_next_batch(uow, 7, NOW):
        pass

    assert len(set(job_ids)) == 1
    async with database.reading() as session:
        jobs = await session.scalar(select(func.count()).select_from(BulkAwardRow))
        job = await session.get(BulkAwardRow, job_ids[0])
    assert jobs == 1
    assert job is not None
    assert (job.status, job.total_customers, job.awarded_customers) == ("COMPLETED", 30, 30)
    assert await award_entries_per_customer(database) == dict.fromkeys(customers, 1)
