"""Fan-out of committed balance changes to the listeners of each topic.

A listener is anything that takes deliveries one by one, at once and without waiting: a
`Subscription` (a bounded queue that one reader awaits), or a broadcast of the API that
serves many subscribers from one place. A subscriber that falls behind never slows the
others: when its queue is full its backlog is dropped and replaced by one `Resync` marker,
and it catches up from the journal, which is the source of truth.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from domain.events import Event
from subscriptions.channels import topics_of

DEFAULT_QUEUE_SIZE = 256


@dataclass(frozen=True)
class Resync:
    """The subscriber missed changes: read the journal after the last version it saw."""


Delivery = Event | Resync


class Listener(Protocol):
    def offer(self, delivery: Delivery) -> None:
        """Take a delivery now; never wait."""


class Deliveries:
    """A bounded queue of deliveries, as small as a list: an asyncio.Queue is four deques of
    over 600 bytes each, and an idle subscription was mostly its queue. (Popping the
    front of a list moves what is behind it: a few pointers, as a queue holds one or
    two deliveries, and at most its size.)"""

    __slots__ = ("_queue_size", "_waiting")

    def __init__(self, queue_size: int) -> None:
        self._queue_size = queue_size
        self._waiting: list[Delivery] = []

    def put(self, delivery: Delivery) -> None:
        if len(self._waiting) >= self._queue_size:
            self._waiting.clear()
            delivery = Resync()
        self._waiting.append(delivery)

    def take(self) -> Delivery | None:
        return self._waiting.pop(0) if self._waiting else None


class Subscription:
    """One reader's deliveries of a topic."""

    __slots__ = ("_deliveries", "_woken", "topic")

    def __init__(self, topic: str, queue_size: int) -> None:
        self.topic = topic
        self._deliveries = Deliveries(queue_size)
        self._woken: asyncio.Future[None] | None = None

    def offer(self, delivery: Delivery) -> None:
        self._deliveries.put(delivery)
        if self._woken is not None and not self._woken.done():
            self._woken.set_result(None)

    async def next(self) -> Delivery:
        while (delivery := self._deliveries.take()) is None:
            self._woken = asyncio.get_running_loop().create_future()
            try:
                await self._woken
            finally:
                self._woken = None
        return delivery


class Hub:
    """In-process fan-out by topic (a customer, a store: subscriptions/channels.py); the work
    per message grows with the listeners of its topics only."""

    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self.queue_size = queue_size
        self._listeners: defaultdict[str, set[Listener]] = defaultdict(set)

    def deliver(self, events: Sequence[Event]) -> None:
        for event in events:
            for topic in topics_of(event):
                for listener in tuple(self._listeners.get(topic, ())):
                    listener.offer(event)

    def resync_all(self) -> None:
        """Changes may have been missed (the broker lost its connection): every listener
        catches up from the journal."""
        for listeners in tuple(self._listeners.values()):
            for listener in tuple(listeners):
                listener.offer(Resync())

    def listen(self, topic: str, listener: Listener) -> None:
        self._listeners[topic].add(listener)

    def stop_listening(self, topic: str, listener: Listener) -> None:
        listeners = self._listeners.get(topic)
        if listeners is None:
            return
        listeners.discard(listener)
        if not listeners:
            del self._listeners[topic]

    @asynccontextmanager
    async def subscription(self, topic: str) -> AsyncIterator[Subscription]:
        subscription = Subscription(topic, self.queue_size)
        self.listen(topic, subscription)
        try:
            yield subscription
        finally:
            self.stop_listening(topic, subscription)

    def subscriber_count(self) -> int:
        return sum(len(listeners) for listeners in self._listeners.values())
