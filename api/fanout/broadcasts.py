"""Broadcasts: one topic seen through one selection, each item executed and encoded once and
the same text handed to every subscriber.

A broadcast is one listener of the hub (one bounded queue) however many subscribers it
has, and follows its feed in order, reading the journal after a gap or an overflow as a
lone subscriber did. Its subscribers each drop what they were already sent. It closes with
its last subscriber.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from api.fanout.selection import Selection
from subscriptions.hub import Deliveries, Delivery, Hub

if TYPE_CHECKING:
    from api.fanout.subscribers import Subscriber

ItemT = TypeVar("ItemT")


class Feed(Protocol[ItemT]):
    """A topic's items in order: each has a position, greater than those before it."""

    @property
    def topic(self) -> str: ...

    def position(self, item: ItemT) -> int: ...

    async def position_now(self) -> int:
        """The position of the latest item committed (read once the topic is listened to)."""

    async def after(self, delivery: Delivery, position: int) -> Sequence[ItemT]:
        """The items a delivery brings past `position`; after a gap or a `Resync`, all that
        the source of truth holds past it."""


class Broadcast:
    """A listener of the hub: what it is handed waits in a bounded queue of its own, and a
    task runs only while there is something to follow (an idle broadcast holds none)."""

    __slots__ = (
        "_busy",
        "_closed",
        "_deliveries",
        "_hub",
        "_position",
        "_ready",
        "_subscribers",
        "feed",
        "selection",
    )

    def __init__(
        self, feed: Feed[Any], selection: Selection, hub: Hub, closed: Callable[[], None]
    ) -> None:
        self.feed = feed
        self.selection = selection
        self._hub = hub
        self._closed = closed
        self._subscribers: dict[Subscriber, None] = {}
        self._deliveries = Deliveries(hub.queue_size)
        self._position = 0
        # Until the feed's position is read; None once it is.
        self._ready: asyncio.Future[None] | None = asyncio.get_running_loop().create_future()
        self._ready.add_done_callback(_retrieve)
        hub.listen(feed.topic, self)  # from now on, what is committed waits here
        self._busy: asyncio.Task[None] | None = asyncio.create_task(self._start())

    async def ready(self) -> None:
        """Once the topic is listened to and the feed's position read: a snapshot read
        after this misses nothing the broadcast will not send."""
        if self._ready is not None:
            await asyncio.shield(self._ready)

    def add(self, subscriber: Subscriber) -> None:
        self._subscribers[subscriber] = None

    def remove(self, subscriber: Subscriber) -> None:
        self._subscribers.pop(subscriber, None)
        if not self._subscribers:
            self._close()

    def offer(self, delivery: Delivery) -> None:
        self._deliveries.put(delivery)
        if self._busy is None:
            self._busy = asyncio.create_task(self._follow())

    async def _start(self) -> None:
        assert self._ready is not None, "started once"
        try:
            self._position = await self.feed.position_now()
        except Exception as error:
            self._ready.set_exception(error)
            self._close()
            return
        self._ready.set_result(None)
        self._ready = None
        await self._follow()

    async def _follow(self) -> None:
        try:
            while (delivery := self._deliveries.take()) is not None:
                for item in await self.feed.after(delivery, self._position):
                    self._position = self.feed.position(item)
                    self._send(self._position, await self.selection.payload(item))
        except Exception as error:
            self._fail(error)
        finally:
            self._busy = None

    def _send(self, position: int, payload: str) -> None:
        for subscriber in self._subscribers:
            subscriber.offer(position, payload)

    def _fail(self, error: Exception) -> None:
        """Each subscriber is sent the error and completed, as Strawberry does (the schema
        logs it, with its traceback, as it encodes it). (Before the broadcast is ready, the
        error is each joining resolver's own: a customer not found, say.)"""
        failure = self.selection.failure(error)
        for subscriber in tuple(self._subscribers):
            subscriber.fail(failure)
        self._close()

    def _close(self) -> None:
        self._hub.stop_listening(self.feed.topic, self)
        if self._busy is not None and self._busy is not asyncio.current_task():
            self._busy.cancel()
        self._closed()


def _retrieve(future: asyncio.Future[None]) -> None:
    """A readiness that failed after its joiners left is not an unretrieved error."""
    if not future.cancelled():
        future.exception()


class Broadcasts:
    """The open broadcasts of a process, by topic and selection."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, Hashable], Broadcast] = {}

    def of(self, feed: Feed[Any], selection: Selection, hub: Hub) -> Broadcast:
        """The broadcast of the feed's topic through the selection, opened if need be."""
        key = (feed.topic, selection.key)
        broadcast = self._open.get(key)
        if broadcast is None:
            broadcast = Broadcast(feed, selection, hub, lambda: self._forget(key, broadcast))
            self._open[key] = broadcast
        return broadcast

    def _forget(self, key: tuple[str, Hashable], broadcast: Broadcast | None) -> None:
        if self._open.get(key) is broadcast:
            del self._open[key]

    def __len__(self) -> int:
        return len(self._open)
