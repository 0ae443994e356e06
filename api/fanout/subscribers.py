"""A subscriber of a broadcast (one operation of one connection), and the outbox that writes a
connection's frames.

A subscriber is a few fields: where it writes, the position it was last sent, and the
opening of its frames. Its broadcast hands it each payload as text; the frame is that text
in an envelope with the operation's id.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

import orjson

from api.fanout.broadcasts import Broadcast
from subscriptions.hub import Resync

logger = logging.getLogger(__name__)

# Frames waiting on one connection before it counts as fallen behind (a connection carries
# a few subscriptions; a subscriber of the hub waits for 256 deliveries).
MAX_WAITING_FRAMES = 2048
CATCH_UP = -1  # in place of a position: the subscriber reads what it missed from the journal

ID, PAYLOAD = '"id":', ',"payload":'
Send = Callable[[str], Awaitable[None]]


class Subscriber:
    __slots__ = (
        "_broadcast",
        "_end",
        "_failure",
        "_opening",
        "_outbox",
        "_waiting",
        "active",
        "sent",
    )

    def __init__(
        self, broadcast: Broadcast, outbox: Outbox, opening: str, end: Callable[[], None]
    ) -> None:
        self._broadcast = broadcast
        self._outbox = outbox
        self._opening = opening
        self._end = end
        # Until its first result is sent, what the broadcast hands it waits here.
        self._waiting: list[tuple[int, str]] | None = []
        self._failure: str | None = None  # a failure that came before its first result went
        self.active = True
        self.sent = 0

    @classmethod
    def opening(cls, message_type: str, operation_id: str) -> str:
        """A frame's text before its payload: `{"type":"next","id":"1","payload":`."""
        return f'{{"type":"{message_type}",{ID}{orjson.dumps(operation_id).decode()}{PAYLOAD}'

    def start(self, position: int) -> None:
        """Its first result, at `position`, is sent: later ones follow."""
        waiting, self._waiting = self._waiting or [], None
        if self._failure is not None:
            self.fail(self._failure)
            return
        self.sent = position
        for later, payload in waiting:
            self.offer(later, payload)

    def offer(self, position: int, payload: str) -> None:
        if self._waiting is not None:
            self._waiting.append((position, payload))
        elif self.active and position > self.sent:
            self._outbox.put(self, position, f"{self._opening}{payload}}}")

    def takes(self, position: int) -> bool:
        """Whether a frame at `position` is still to be written (then it counts as sent)."""
        if not self.active or position <= self.sent:
            return False
        self.sent = position
        return True

    async def catch_up(self, send: Send) -> None:
        """What it missed while its connection was behind, from the journal."""
        feed, selection = self._broadcast.feed, self._broadcast.selection
        try:
            missed = [
                (feed.position(item), await selection.payload(item))
                for item in await feed.after(Resync(), self.sent)
            ]
        except Exception as error:  # logged by the schema as the failure is encoded
            self.fail(selection.failure(error))
            return
        for position, payload in missed:
            if self.takes(position):
                await send(f"{self._opening}{payload}}}")

    def fail(self, failure: str) -> None:
        """Sent the failure and completed, as when a resolver raises (after its first result,
        when that is still on its way)."""
        if self._waiting is not None:
            self._failure = failure
            self.leave()
            return
        self._outbox.put(None, 0, f"{self._opening}{failure}}}")
        id_field = self._opening[self._opening.index(ID) : -len(PAYLOAD)]
        self._outbox.put(None, 0, f'{{"type":"complete",{id_field}}}')
        self.leave()
        self._end()

    def leave(self) -> None:
        if self.active:
            self.active = False
            self._broadcast.remove(self)


class Outbox:
    """The frames broadcasts send on one connection, written in order by a task of its own
    while there are any: a connection that reads slowly never holds up a broadcast. Past
    MAX_WAITING_FRAMES its backlog is dropped and each of its subscribers catches up from
    the journal."""

    def __init__(self, send: Send) -> None:
        self._send = send
        # (subscriber, position, text); a frame without a subscriber is always written.
        self._frames: deque[tuple[Subscriber | None, int, str]] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._closed = False

    def put(self, subscriber: Subscriber | None, position: int, text: str) -> None:
        if self._closed:
            return
        if len(self._frames) >= MAX_WAITING_FRAMES:
            self._fall_behind()
        self._frames.append((subscriber, position, text))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())

    def _fall_behind(self) -> None:
        behind = {subscriber for subscriber, _, _ in self._frames if subscriber is not None}
        kept = [frame for frame in self._frames if frame[0] is None]
        self._frames.clear()
        self._frames.extend(kept)
        self._frames.extend((subscriber, CATCH_UP, "") for subscriber in behind)

    async def _write(self) -> None:
        try:
            while self._frames:
                await self._write_one(*self._frames.popleft())
        except Exception:  # the connection is gone: its handler cleans up
            logger.debug("a connection's outbox stopped", exc_info=True)
            self._closed = True
            self._frames.clear()
        finally:
            self._writer = None

    async def _write_one(self, subscriber: Subscriber | None, position: int, text: str) -> None:
        if subscriber is None:
            await self._send(text)
        elif position == CATCH_UP:
            await subscriber.catch_up(self._send)
        elif subscriber.takes(position):
            await self._send(text)

    async def close(self) -> None:
        self._closed = True
        self._frames.clear()
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
