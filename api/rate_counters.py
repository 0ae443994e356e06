"""Requests counted per key in this process, and shared through Redis every few moments.

A request is decided here, with no I/O: the count is a sliding window (this window's
requests plus the previous window's, weighted by how much of it the sliding window still
covers), of the requests every process had sent to Redis at the last sync plus this
process's own since. A sync, at most every `sync_seconds` while requests come, sends this
process's new requests to Redis (INCRBY per key and window) and reads every process's
totals back, all in one round trip. So processes count together, each one late by at
most one sync interval's requests of the others.

If Redis cannot be reached the process goes on counting alone: no request is refused
because the shared counts cannot be read, and the unsent requests are sent once Redis is
back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from limits import RateLimitItem
from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


@dataclass
class Tally:
    """One key's requests in one window: this process's, how many of them Redis has been
    sent, and the window's total in Redis when last read (those sent included)."""

    counted: int = 0
    sent: int = 0
    shared: int = 0

    @property
    def total(self) -> int:
        return self.shared + self.counted - self.sent

    @property
    def unsent(self) -> int:
        return self.counted - self.sent

    def synced(self, sent: int, shared: int) -> None:
        self.sent += sent
        self.shared = shared


@dataclass
class KeyCounts:
    """One key's current and previous windows (window n covers [n * period, (n+1) * period))."""

    period: float
    window: int
    current: Tally = field(default_factory=Tally)
    previous: Tally = field(default_factory=Tally)

    def move_to(self, window: int) -> None:
        if window == self.window:
            return
        self.previous = self.current if window == self.window + 1 else Tally()
        self.current = Tally()
        self.window = window

    def count(self, into: float) -> float:
        """The sliding window's requests, `into` seconds into the current window."""
        return self.current.total + self.previous.total * (1 - into / self.period)

    @property
    def idle(self) -> bool:
        """No request of this process in either window: nothing to send or to decide."""
        return self.current.counted == 0 and self.previous.counted == 0


@dataclass(frozen=True)
class Sending:
    """What one sync sends for one key, read before the round trip (requests keep coming)."""

    name: str
    counts: KeyCounts
    window: int
    current: int
    previous: int

    @classmethod
    def of(cls, name: str, counts: KeyCounts) -> Sending:
        return cls(name, counts, counts.window, counts.current.unsent, counts.previous.unsent)


class RateCounters:
    def __init__(
        self,
        redis: Redis | None,
        prefix: str,
        sync_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._sync_seconds = sync_seconds
        self._clock = clock
        self._counts: dict[str, KeyCounts] = {}
        self._last_sync = clock()
        self._syncing: asyncio.Task[None] | None = None
        # One sync at a time: two at once would both send the same requests.
        self._sync_lock = asyncio.Lock()
        self._unreachable = False

    def hit(self, item: RateLimitItem, key: str) -> bool:
        """Count one request for `key` unless the limit is reached; a sync is started when
        one is due (the request does not wait for it)."""
        now = self._clock()
        self._when_due(now)
        period = item.get_expiry()
        window, into = divmod(now, period)
        name = item.key_for(key)
        counts = self._counts.get(name)
        if counts is None:
            counts = self._counts[name] = KeyCounts(period, int(window))
        counts.move_to(int(window))
        if counts.count(into) + 1 > item.amount:
            return False
        counts.current.counted += 1
        return True

    async def sync(self) -> None:
        """This process's new requests sent to Redis, every process's totals read back;
        keys idle for two windows forgotten."""
        async with self._sync_lock:
            await self._sync()

    def __len__(self) -> int:
        """The keys counted now."""
        return len(self._counts)

    @property
    def syncing(self) -> asyncio.Task[None] | None:
        """The sync started in the background, while it runs."""
        return self._syncing

    async def _sync(self) -> None:
        self._forget_idle(self._clock())
        sending = [Sending.of(name, counts) for name, counts in self._counts.items()]
        if self._redis is None or not sending:
            return
        pipeline = self._redis.pipeline(transaction=False)
        for one in sending:
            for window, unsent in ((one.window, one.current), (one.window - 1, one.previous)):
                key = f"{self._prefix}:{one.name}:{window}"
                pipeline.incrby(key, unsent)
                # Read as the previous window until the end of the next one.
                pipeline.expireat(key, int((window + 2) * one.counts.period) + 1)
        try:
            replies = await pipeline.execute()
        except (RedisError, OSError) as error:
            self._lost(error)
            return
        self._found()
        for number, one in enumerate(sending):
            current, previous = int(replies[4 * number]), int(replies[4 * number + 2])
            _take(one, current, previous)

    async def close(self) -> None:
        if self._syncing is not None:
            self._syncing.cancel()
            await asyncio.gather(self._syncing, return_exceptions=True)
        if self._redis is not None:
            await self._redis.aclose()

    def _forget_idle(self, now: float) -> None:
        """Keys with no request of this process in their last two windows."""
        for name, counts in list(self._counts.items()):
            counts.move_to(int(now // counts.period))
            if counts.idle:
                del self._counts[name]

    def _when_due(self, now: float) -> None:
        """Every sync_seconds: a sync in the background (none while one runs), or in
        memory alone, the idle keys forgotten."""
        if now - self._last_sync < self._sync_seconds or self._syncing is not None:
            return
        self._last_sync = now
        if self._redis is None:
            self._forget_idle(now)
        else:
            self._syncing = asyncio.create_task(self._sync_in_background())

    async def _sync_in_background(self) -> None:
        try:
            await self.sync()
        except Exception:
            logger.exception("rate limit sync failed")
        finally:
            self._syncing = None

    def _lost(self, error: BaseException) -> None:
        # One warning an outage, not one a sync.
        if not self._unreachable:
            logger.warning(
                "rate limit storage unreachable (%s); each process counts alone until it is back",
                type(error).__name__,
            )
        self._unreachable = True

    def _found(self) -> None:
        if self._unreachable:
            logger.warning("rate limit storage reachable again; counting together")
        self._unreachable = False


def _take(sent: Sending, current: int, previous: int) -> None:
    """Redis's totals into the key's windows, where they still are (a window may have
    ended during the round trip)."""
    counts = sent.counts
    if counts.window == sent.window:
        counts.current.synced(sent.current, current)
        counts.previous.synced(sent.previous, previous)
    elif counts.window == sent.window + 1:
        counts.previous.synced(sent.current, current)
