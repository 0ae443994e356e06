"""Use cases of campaigns: bulk awards to lists or segments, their batches, their reversal."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from domain.campaigns import (
    BulkAward,
    BulkAwardPoints,
    BulkAwardStatus,
    Recipient,
    ReverseBulkAward,
    Segment,
    award_batch,
    held_out,
)
from domain.errors import IdempotencyKeyReused, InvalidInput
from domain.events import BalanceChanged
from domain.ports import UnitOfWork


async def bulk_award_points(uow: UnitOfWork, cmd: BulkAwardPoints) -> BulkAward:
    """Record the job and its recipients, some held out when asked; a worker awards the
    others (award_next_batch)."""
    job_id = str(uuid.uuid4())
    holdout = held_out(job_id, cmd.customer_ids, cmd.holdout_percent)
    job = BulkAward(
        id=job_id,
        idempotency_key=cmd.idempotency_key,
        status=BulkAwardStatus.PENDING,
        points=cmd.points,
        reason=cmd.reason,
        campaign_id=cmd.campaign_id,
        total_customers=len(cmd.customer_ids),
        awarded_customers=0,
        failed_customers=0,
        created_at=cmd.requested_at,
        completed_at=None,
        created_by=cmd.actor,
        holdout_percent=cmd.holdout_percent,
        holdout_customers=len(holdout),
    )
    async with uow:
        previous = await uow.bulk_awards.claim(job, cmd.fingerprint())
        if previous is not None:
            return _same_job(*previous, fingerprint=cmd.fingerprint())
        if cmd.segment is None:
            await uow.bulk_awards.add_recipients(job.id, cmd.customer_ids, holdout)
        else:
            job = await _add_segment(uow, job, cmd.segment)
        job = await _settled_if_all_held_out(uow, job)
        await uow.commit()
    return job


async def _add_segment(uow: UnitOfWork, job: BulkAward, segment: Segment) -> BulkAward:
    total, holdout = await uow.bulk_awards.add_segment(job.id, segment, job.holdout_percent)
    if total == 0:
        raise InvalidInput("the segment matches no customer", ("input", "segment"))
    return replace(job, total_customers=total, holdout_customers=holdout)


async def _settled_if_all_held_out(uow: UnitOfWork, job: BulkAward) -> BulkAward:
    """A job whose every recipient is held out has nothing for a worker: it completes now."""
    if job.holdout_customers < job.total_customers:
        return job
    await uow.bulk_awards.settle({job.id: (0, 0)}, job.created_at)
    return replace(job, status=BulkAwardStatus.COMPLETED, completed_at=job.created_at)


def _same_job(job: BulkAward, stored_fingerprint: str, *, fingerprint: str) -> BulkAward:
    if stored_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "this idempotencyKey was used for a different bulk award", ("input", "idempotencyKey")
        )
    return job


async def award_next_batch(uow: UnitOfWork, batch_size: int, now: datetime) -> int:
    """Award one batch of pending recipients in one transaction; returns how many were done."""
    async with uow:
        batch = await uow.bulk_awards.next_batch(batch_size)
        if not batch:
            return 0
        jobs = await _jobs_of(uow, batch)
        # Customers are locked in one order by every worker, so two jobs that share
        # customers cannot deadlock each other.
        customer_ids = sorted({recipient.customer_id for recipient in batch})
        accounts = await uow.customers.lock_accounts(customer_ids)
        reversed_entries = await uow.bulk_awards.reversed_entries(batch)
        awards = award_batch(jobs, batch, accounts, now, reversed_entries)
        posted = await uow.journal.add_many(awards.entries)
        await uow.customers.save_accounts(awards.accounts)
        for entry in posted:
            if entry.entry.points:
                uow.record(BalanceChanged(entry))
        awarded = list(zip(awards.awarded, (entry.id for entry in posted), strict=True))
        await uow.bulk_awards.mark_many(awarded, awards.failed)
        await uow.bulk_awards.settle(awards.progress(), now)
        await uow.commit()
    return len(batch)


async def reverse_bulk_award(uow: UnitOfWork, cmd: ReverseBulkAward) -> BulkAward:
    """A job that takes the award back from each customer it reached (REVERSAL entries
    pointing at each award; points already spent become owed, as with refunds)."""
    async with uow:
        original = await uow.bulk_awards.get(cmd.bulk_award_id)
        job = _reversal_job(cmd, original)
        # A second reversal of the same award, under another key, is refused by the claim.
        previous = await uow.bulk_awards.claim(job, cmd.fingerprint())
        if previous is not None:
            return _same_job(*previous, fingerprint=cmd.fingerprint())
        total = await uow.bulk_awards.add_reversal_recipients(job.id, cmd.bulk_award_id)
        if total == 0:
            await uow.bulk_awards.settle({job.id: (0, 0)}, cmd.requested_at)
        await uow.commit()
    if total == 0:
        return replace(job, status=BulkAwardStatus.COMPLETED, completed_at=cmd.requested_at)
    return replace(job, total_customers=total)


def _reversal_job(cmd: ReverseBulkAward, original: BulkAward | None) -> BulkAward:
    field = ("input", "bulkAwardId")
    if original is None:
        raise InvalidInput(f"no bulk award {cmd.bulk_award_id}", field)
    if original.reverses_id is not None:
        raise InvalidInput("a reversal cannot itself be reversed", field)
    if original.status is not BulkAwardStatus.COMPLETED:
        raise InvalidInput("a bulk award can be reversed once it has completed", field)
    return replace(
        original,
        id=str(uuid.uuid4()),
        idempotency_key=cmd.idempotency_key,
        status=BulkAwardStatus.PENDING,
        reason=cmd.reason,
        total_customers=0,
        awarded_customers=0,
        failed_customers=0,
        created_at=cmd.requested_at,
        completed_at=None,
        created_by=cmd.actor,
        reverses_id=original.id,
        # A reversal takes back from those awarded; the original's holdout is not its own.
        holdout_percent=0,
        holdout_customers=0,
    )


async def _jobs_of(uow: UnitOfWork, batch: Sequence[Recipient]) -> dict[str, BulkAward]:
    jobs = {}
    for job_id in sorted({recipient.bulk_award_id for recipient in batch}):
        job = await uow.bulk_awards.get(job_id)
        assert job is not None, "a recipient points at a missing bulk award"
        jobs[job_id] = job
    return jobs
