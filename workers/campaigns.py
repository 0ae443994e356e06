"""The bulk award worker: batches of pending recipients until none is left."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from domain.use_cases import campaigns
from workers.base import Worker

logger = logging.getLogger(__name__)

RETRY_AFTER_FAILURE_SECONDS = 5.0


@dataclass
class BulkAwardWorker(Worker):
    batch_size: int
    poll_seconds: float
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    def wake(self) -> None:
        """A job was created here: start at once rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        super().stop()
        self._wake.set()

    async def run(self) -> None:
        while self.running:
            awarded = await self.run_once()
            if awarded == 0:
                await self._idle()

    async def run_once(self) -> int:
        """One batch; 0 when there was nothing to do or the batch failed (and was logged)."""
        try:
            return await campaigns.award_next_batch(self.uow(), self.batch_size, self.clock())
        except Exception:
            logger.exception("a bulk award batch failed; it will be retried")
            await self.pause(RETRY_AFTER_FAILURE_SECONDS)
            return 0

    async def drain(self) -> None:
        """Work until nothing is pending (used by tests and `loyalty` commands)."""
        while await self.run_once():
            pass

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
        self._wake.clear()
