"""A worker told to stop finishes the batch under way, commits it and returns; one waiting
between batches returns at once. (Cancelling a batch instead could leave its transaction,
and on SQLite the writer lock, open until the connection was collected.)"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

from api.services import utc_now
from domain.events import Event
from persistence.database import Database
from tests.integration.test_outbox import DeadBroker, committed_earn, unpublished
from workers.outbox import OutboxRelay


class GatedBroker:
    """Publishing waits until the test opens the gate."""

    def __init__(self) -> None:
        self.publishing = asyncio.Event()
        self.gate = asyncio.Event()
        self.published: list[Event] = []

    async def publish(self, events: Sequence[Event]) -> None:
        self.publishing.set()
        await self.gate.wait()
        self.published.extend(events)


async def test_a_worker_stopped_mid_batch_commits_the_batch_then_returns(
    database: Database,
) -> None:
    await committed_earn(database, DeadBroker())
    broker = GatedBroker()
    relay = OutboxRelay(database, broker, utc_now, grace=timedelta(0), poll_seconds=3600)
    running = asyncio.create_task(relay.run())
    await asyncio.wait_for(broker.publishing.wait(), 10)

    relay.stop()
    broker.gate.set()
    await asyncio.wait_for(running, 10)

    assert not running.cancelled()
    assert len(broker.published) == 1
    assert await unpublished(database) == []


async def test_a_worker_waiting_between_batches_returns_at_once_when_stopped(
    database: Database,
) -> None:
    relay = OutboxRelay(database, GatedBroker(), utc_now, grace=timedelta(0), poll_seconds=3600)
    running = asyncio.create_task(relay.run())
    await asyncio.sleep(0.2)  # the outbox is empty: the relay waits its hour

    relay.stop()

    await asyncio.wait_for(running, 5)
    assert not running.cancelled()
