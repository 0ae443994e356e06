"""Background work inside each server process: bulk awards, the outbox, expiry.

Every process runs one of each. Workers share the job table: each batch locks
its recipients with FOR UPDATE SKIP LOCKED on PostgreSQL, so several
processes split a job between them, and a batch is one transaction, so a
process killed mid-job leaves nothing half-done: the next worker resumes.
Expiry locks customers the same way and works out what is due under the lock,
so every process may run it on its schedule.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from domain import bulk_award_services, expiry_services
from domain.expiry import ExpiryPolicy
from domain.ports import EventPublisher
from persistence import outbox
from persistence.database import Database
from persistence.unit_of_work import SqlAlchemyUnitOfWork

logger = logging.getLogger(__name__)

RETRY_AFTER_FAILURE_SECONDS = 5.0


class BulkAwardWorker:
    def __init__(
        self,
        database: Database,
        publisher: EventPublisher,
        clock: Callable[[], datetime],
        *,
        batch_size: int,
        poll_seconds: float,
    ) -> None:
        self._database = database
        self._publisher = publisher
        self._clock = clock
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """A job was created here: start at once rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            awarded = await self.run_once()
            if awarded == 0:
                await self._idle()

    async def run_once(self) -> int:
        """One batch; 0 when there was nothing to do or the batch failed (and was logged)."""
        try:
            uow = SqlAlchemyUnitOfWork(self._database, self._publisher)
            return await bulk_award_services.award_next_batch(uow, self._batch_size, self._clock())
        except Exception:
            logger.exception("a bulk award batch failed; it will be retried")
            await asyncio.sleep(RETRY_AFTER_FAILURE_SECONDS)
            return 0

    async def drain(self) -> None:
        """Work until nothing is pending (used by tests and `loyalty` commands)."""
        while await self.run_once():
            pass

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
        self._wake.clear()


class OutboxRelay:
    """Publishes committed balance changes that their own process did not (see
    persistence/outbox.py). Runs in every process; rows are locked with SKIP LOCKED, so
    two relays never send the same batch at once."""

    def __init__(
        self,
        database: Database,
        publisher: EventPublisher,
        clock: Callable[[], datetime],
        *,
        grace: timedelta,
        poll_seconds: float,
        batch_size: int = 500,
    ) -> None:
        self._database = database
        self._publisher = publisher
        self._clock = clock
        self._grace = grace
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size

    async def run(self) -> None:
        while True:
            try:
                relayed = await self.relay_once()
            except Exception as error:
                logger.warning(
                    "the outbox relay failed (%s: %s); it will try again",
                    type(error).__name__,
                    error,
                )
                relayed = 0
            if relayed < self._batch_size:
                await asyncio.sleep(self._poll_seconds)

    async def relay_once(self) -> int:
        now = self._clock()
        async with self._database.writing() as session:
            outbox_ids, events = await outbox.overdue(session, now - self._grace, self._batch_size)
            if events:
                await self._publisher.publish(events)
            await outbox.settle(session, outbox_ids, now)
            await session.commit()
        if outbox_ids:
            logger.info("relayed %d balance change(s) from the outbox", len(outbox_ids))
        return len(outbox_ids)


class ExpiryWorker:
    """Expires due points every `interval` (and once at start), batch by batch."""

    def __init__(
        self,
        database: Database,
        publisher: EventPublisher,
        clock: Callable[[], datetime],
        *,
        policy: ExpiryPolicy,
        batch_size: int,
        interval_seconds: float,
    ) -> None:
        self._database = database
        self._publisher = publisher
        self._clock = clock
        self._policy = policy
        self._batch_size = batch_size
        self._interval_seconds = interval_seconds

    async def run(self) -> None:
        while True:
            try:
                await self.expire_due()
            except Exception:
                logger.exception("expiring points failed; it will run again")
            await asyncio.sleep(self._interval_seconds)

    async def expire_due(self) -> int:
        """Batches until none is left that this process can take; returns customers seen."""
        seen = 0
        while True:
            uow = SqlAlchemyUnitOfWork(self._database, self._publisher)
            batch = await expiry_services.expire_points(
                uow, self._policy, self._clock(), self._batch_size
            )
            seen += batch
            if batch < self._batch_size:
                return seen
