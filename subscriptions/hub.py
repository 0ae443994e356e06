"""Fan-out of committed balance changes to the subscribers of each customer.

Each subscriber has a bounded queue. A subscriber that falls behind never
slows the others: when its queue is full its backlog is dropped and replaced
by one `Resync` marker, and it catches up from the journal, which is the
source of truth.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from domain.events import Event
from subscriptions.channels import topics_of

DEFAULT_QUEUE_SIZE = 256


@dataclass(frozen=True)
class Resync:
    """The subscriber missed changes: read the journal after the last version it saw."""


Delivery = Event | Resync


class Subscription:
    def __init__(self, topic: str, queue_size: int) -> None:
        self.topic = topic
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue(maxsize=queue_size)

    def offer(self, delivery: Delivery) -> None:
        try:
            self._queue.put_nowait(delivery)
        except asyncio.QueueFull:
            self._drain()
            self._queue.put_nowait(Resync())

    def _drain(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()

    async def next(self) -> Delivery:
        return await self._queue.get()


class Hub:
    """In-process fan-out by topic (a customer, a store: subscriptions/channels.py); the work
    per message grows with the subscribers of its topics only."""

    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self._queue_size = queue_size
        self._subscribers: defaultdict[str, set[Subscription]] = defaultdict(set)

    def deliver(self, events: Sequence[Event]) -> None:
        for event in events:
            for topic in topics_of(event):
                for subscription in tuple(self._subscribers.get(topic, ())):
                    subscription.offer(event)

    def resync_all(self) -> None:
        """Changes may have been missed (the broker lost its connection): every subscriber
        catches up from the journal."""
        for subscribers in tuple(self._subscribers.values()):
            for subscription in tuple(subscribers):
                subscription.offer(Resync())

    @asynccontextmanager
    async def subscription(self, topic: str) -> AsyncIterator[Subscription]:
        subscription = Subscription(topic, self._queue_size)
        self._subscribers[topic].add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscribers[topic]
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[topic]

    def subscriber_count(self) -> int:
        return sum(len(subscribers) for subscribers in self._subscribers.values())
