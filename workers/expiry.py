"""The expiry worker: expires due points every interval (and once at start), batch by
batch, until no customer this process can lock is due."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from domain.expiry import ExpiryPolicy
from domain.use_cases import expiry
from workers.base import Worker

logger = logging.getLogger(__name__)


@dataclass
class ExpiryWorker(Worker):
    policy: ExpiryPolicy
    batch_size: int
    interval_seconds: float

    async def run(self) -> None:
        while self.running:
            try:
                await self.expire_due()
            except Exception:
                logger.exception("expiring points failed; it will run again")
            await self.pause(self.interval_seconds)

    async def expire_due(self) -> int:
        """Batches until none is left that this process can take; returns customers seen."""
        seen = 0
        while True:
            uow, now = self.uow(), self.clock()
            batch = await expiry.expire_points(uow, self.policy, now, self.batch_size)
            seen += batch
            if batch < self.batch_size or not self.running:
                return seen
