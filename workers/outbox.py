"""The outbox relay: publishes committed balance changes that their own process did not
(see persistence/outbox.py). Runs in every process; rows are locked with SKIP LOCKED, so
two relays never send the same batch at once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from persistence import outbox
from workers.base import Worker

logger = logging.getLogger(__name__)


@dataclass
class OutboxMarker(Worker):
    """Marks, a batch at a time, the outbox rows this process published (every process
    runs one, jobs or not); what is noted when it stops is marked before it returns."""

    interval_seconds: float

    async def run(self) -> None:
        while self.running:
            await self.pause(self.interval_seconds)
            await self.mark_once()

    async def mark_once(self) -> int:
        try:
            return await outbox.flush_published(self.database, self.clock())
        except Exception as error:
            logger.warning(
                "marking published outbox rows failed (%s: %s); the relay will publish them again",
                type(error).__name__,
                error,
            )
            return 0


@dataclass
class OutboxRelay(Worker):
    grace: timedelta
    poll_seconds: float
    batch_size: int = 500

    async def run(self) -> None:
        while self.running:
            try:
                relayed = await self.relay_once()
            except Exception as error:
                logger.warning(
                    "the outbox relay failed (%s: %s); it will try again",
                    type(error).__name__,
                    error,
                )
                relayed = 0
            if relayed < self.batch_size:
                await self.pause(self.poll_seconds)

    async def relay_once(self) -> int:
        now = self.clock()
        async with self.database.writing() as session:
            outbox_ids, events = await outbox.overdue(session, now - self.grace, self.batch_size)
            if events:
                await self.publisher.publish(events)
            await outbox.settle(session, outbox_ids, now)
            await session.commit()
        if outbox_ids:
            logger.info("relayed %d balance change(s) from the outbox", len(outbox_ids))
        return len(outbox_ids)
