"""The rollup worker: counts the analytics inbox into the rollups, a batch per transaction,
in every process; one process counts at a time (see persistence/analytics/rollups.py), so
with several processes exactly one applies each batch, and after downtime the inbox is
simply longer. Stores whose day changed hear of it, at most once a second each."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.events import TilesChanged
from persistence.analytics.rollups import BatchCounted, count_batch
from persistence.analytics.tally import Zones
from workers.base import Worker

logger = logging.getLogger(__name__)
TILES_EVERY = timedelta(seconds=1)


@dataclass
class RollupWorker(Worker):
    zones: Zones
    poll_seconds: float
    batch_size: int = 2000
    told: dict[str, datetime] = field(default_factory=dict)
    untold: set[str] = field(default_factory=set)

    async def run(self) -> None:
        while self.running:
            try:
                counted = await self.count_once()
                await self.tell_stores()
            except Exception as error:
                logger.warning(
                    "the rollup worker failed (%s: %s); it will try again",
                    type(error).__name__,
                    error,
                )
                counted = 0
            if counted < self.batch_size:
                await self.pause(self.poll_seconds)

    async def count_once(self) -> int:
        """Count one batch of the inbox; 0 when it is empty or another process counts."""
        return (await self._count()).rows

    async def _count(self) -> BatchCounted:
        async with self.database.writing() as session:
            counted = await count_batch(session, self.zones, self.batch_size)
            await session.commit()
        self.untold |= counted.stores
        return counted

    async def drain(self) -> int:
        """Count until the inbox is empty, waiting out another process that is counting
        (tests, rebuilds): how many rows this process counted."""
        total = 0
        while True:
            counted = await self._count()
            total += counted.rows
            if counted.locked_out:
                await asyncio.sleep(0.05)
            elif not counted.rows:
                return total

    async def tell_stores(self) -> None:
        """Tell subscribers which stores' tiles changed, at most once a second a store."""
        now = self.clock()
        due = sorted(
            store
            for store in self.untold
            if store not in self.told or now - self.told[store] >= TILES_EVERY
        )
        if not due:
            return
        await self.publisher.publish([TilesChanged(store) for store in due])
        for store in due:
            self.told[store] = now
        self.untold -= set(due)
