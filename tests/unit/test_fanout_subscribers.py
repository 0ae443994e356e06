"""Subscribers and their outbox: a connection that falls behind loses nothing and repeats
nothing (it catches up from the source of truth instead of holding up its broadcast), and a
failure never overtakes a subscriber's first result."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

import pytest

from api.fanout import subscribers
from api.fanout.broadcasts import Broadcasts
from api.fanout.selection import Selection
from api.fanout.subscribers import Outbox, Subscriber
from subscriptions.hub import Delivery, Hub


class FakeFeed:
    """A journal of positions 1, 2, 3, ...: a Resync brings all of them past a position."""

    topic = "customer:c1"

    def __init__(self) -> None:
        self.journal: list[int] = []
        self.asked: list[int] = []  # the positions read past, broadcast's and catch-ups alike

    def position(self, item: int) -> int:
        return item

    async def position_now(self) -> int:
        return len(self.journal)

    async def after(self, delivery: Delivery, position: int) -> list[int]:
        self.asked.append(position)
        return [item for item in self.journal if item > position]


class FakeSelection:
    key = "the same for everyone"

    async def payload(self, item: object) -> str:
        return f'{{"data":{{"v":{item}}}}}'

    def failure(self, error: Exception) -> str:
        return '{"data":null}'


class SlowConnection:
    """Writes nothing until it is let go; then everything."""

    def __init__(self) -> None:
        self.written: list[str] = []
        self.let_go = asyncio.Event()

    async def send(self, text: str) -> None:
        await self.let_go.wait()
        self.written.append(text)


async def until(condition: Callable[[], bool], turns: int = 1000) -> None:
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("never came to pass")


async def test_a_connection_that_falls_behind_catches_up_with_every_change_once_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(subscribers, "MAX_WAITING_FRAMES", 3)
    feed, hub, connection = FakeFeed(), Hub(), SlowConnection()
    broadcast = Broadcasts().of(feed, cast(Selection, FakeSelection()), hub)
    outbox = Outbox(connection.send)
    subscriber = Subscriber(broadcast, outbox, Subscriber.opening("next", "1"), lambda: None)
    broadcast.add(subscriber)
    await broadcast.ready()
    subscriber.start(0)

    feed.journal.append(1)
    hub.resync_all()
    await until(lambda: subscriber.sent == 1)  # its connection is writing change 1, slowly
    feed.journal.extend(range(2, 11))
    hub.resync_all()  # nine more changes: more than its outbox holds
    await until(lambda: len(feed.asked) == 2)
    connection.let_go.set()
    await until(lambda: len(connection.written) == 10)
    subscriber.leave()
    await outbox.close()

    assert feed.asked == [0, 1, 1]  # the broadcast's two reads, then the catch-up past 1
    assert connection.written == [
        f'{{"type":"next","id":"1","payload":{{"data":{{"v":{n}}}}}}}' for n in range(1, 11)
    ]


async def test_a_failure_before_the_first_result_is_sent_after_it_then_completes() -> None:
    feed, hub, connection = FakeFeed(), Hub(), SlowConnection()
    connection.let_go.set()
    broadcast = Broadcasts().of(feed, cast(Selection, FakeSelection()), hub)
    outbox = Outbox(connection.send)
    ended: list[str] = []
    subscriber = Subscriber(
        broadcast, outbox, Subscriber.opening("next", "1"), lambda: ended.append("1")
    )
    broadcast.add(subscriber)
    await broadcast.ready()

    subscriber.fail('{"data":null,"errors":[]}')  # its snapshot is still on its way
    await until(lambda: hub.subscriber_count() == 0)
    before_start = (list(connection.written), list(ended))
    subscriber.start(0)  # the snapshot went
    await until(lambda: len(connection.written) == 2)
    await outbox.close()

    assert before_start == ([], [])
    assert connection.written == [
        '{"type":"next","id":"1","payload":{"data":null,"errors":[]}}',
        '{"type":"complete","id":"1"}',
    ]
    assert ended == ["1"]
