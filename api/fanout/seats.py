"""The seat a WebSocket handler offers each subscription (as its root value), and how a
resolver follows a feed: in a broadcast when offered a seat, on its own otherwise."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, TypeVar

from api.context import Info
from api.fanout.broadcasts import Broadcasts, Feed
from api.fanout.selection import Selection
from api.fanout.subscribers import Outbox, Subscriber
from subscriptions.hub import Hub

ItemT = TypeVar("ItemT")


class Seat:
    """A subscription's place in a broadcast, taken by its resolver before its first result
    is read; the handler starts it once that result is sent."""

    __slots__ = (
        "_broadcasts",
        "_end",
        "_opening",
        "_outbox",
        "_position",
        "_selection",
        "started",
        "subscriber",
    )

    def __init__(
        self,
        broadcasts: Broadcasts,
        selection: Selection,
        outbox: Outbox,
        opening: str,
        end: Callable[[], None],
    ) -> None:
        self._broadcasts = broadcasts
        self._selection: Selection | None = selection
        self._outbox = outbox
        self._opening = opening
        self._end = end
        self._position: int | None = None
        self.subscriber: Subscriber | None = None
        self.started = False

    async def take(self, feed: Feed[Any], hub: Hub) -> None:
        """Joins the broadcast and waits until it listens: what is read next misses nothing."""
        assert self._selection is not None, "a seat is taken once"
        broadcast = self._broadcasts.of(feed, self._selection, hub)
        self._selection = None  # the broadcast keeps the one it opened with
        self.subscriber = Subscriber(broadcast, self._outbox, self._opening, self._end)
        broadcast.add(self.subscriber)
        await broadcast.ready()

    def hold(self, position: int) -> None:
        """The first result is at `position`."""
        self._position = position

    @property
    def held(self) -> bool:
        return self._position is not None

    def start(self) -> None:
        """The first result is sent: the broadcast's later ones follow it."""
        assert self.subscriber is not None, "taken"
        assert self._position is not None, "held"
        self.subscriber.start(self._position)
        self.started = True

    def leave(self) -> None:
        if self.subscriber is not None:
            self.subscriber.leave()


async def follow(
    info: Info, feed: Feed[ItemT], first: Callable[[], Awaitable[ItemT]]
) -> AsyncGenerator[ItemT, None]:
    """The first item (read once the topic is listened to), then every later one, in order.
    Offered a seat, the subscription takes it and its broadcast sends it the rest."""
    hub = info.context.services.hub
    seat = info.root_value
    if isinstance(seat, Seat):
        await seat.take(feed, hub)
        item = await first()
        seat.hold(feed.position(item))
        yield item
        return
    async with hub.subscription(feed.topic) as deliveries:
        item = await first()
        yield item
        position = feed.position(item)
        while True:
            for item in await feed.after(await deliveries.next(), position):
                position = feed.position(item)
                yield item
