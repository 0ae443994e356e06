"""The expiry worker: expires due points every interval (and once at start), batch by
batch, until no customer this process can lock is due."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from domain.expiry import ExpiryPolicy
from domain.ports import EventPublisher
from domain.use_cases import expiry
from persistence.database import Database
from persistence.unit_of_work import SqlAlchemyUnitOfWork

logger = logging.getLogger(__name__)


@dataclass
class ExpiryWorker:
    database: Database
    publisher: EventPublisher
    clock: Callable[[], datetime]
    policy: ExpiryPolicy
    batch_size: int
    interval_seconds: float

    async def run(self) -> None:
        while True:
            try:
                await self.expire_due()
            except Exception:
                logger.exception("expiring points failed; it will run again")
            await asyncio.sleep(self.interval_seconds)

    async def expire_due(self) -> int:
        """Batches until none is left that this process can take; returns customers seen."""
        seen = 0
        while True:
            uow = SqlAlchemyUnitOfWork(self.database, self.publisher)
            batch = await expiry.expire_points(uow, self.policy, self.clock(), self.batch_size)
            seen += batch
            if batch < self.batch_size:
                return seen
