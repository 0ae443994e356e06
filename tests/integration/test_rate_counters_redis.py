"""Processes count together through Redis, each syncing now and then; without Redis each
counts alone and no request is refused for it."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import ConnectionError as RedisConnectionError

from api.rate_counters import RateCounters
from tests.conftest import REDIS_URL
from tests.unit.test_rate_counters import START, THREE_A_MINUTE, Clock


@pytest.fixture
async def processes(redis_prefix: str) -> AsyncIterator[tuple[RateCounters, RateCounters, Clock]]:
    """Two processes' counters sharing Redis (and one clock)."""
    clock = Clock()
    one, two = (
        RateCounters(Redis.from_url(REDIS_URL), f"{redis_prefix}:rate", 1.0, clock)
        for _ in range(2)
    )
    yield one, two, clock
    await one.close()
    await two.close()


def hits(counters: RateCounters, count: int, key: str = "token:a") -> list[bool]:
    return [counters.hit(THREE_A_MINUTE, key) for _ in range(count)]


async def synced(*processes: RateCounters) -> None:
    """Each one's counts sent, then everyone's read back."""
    for _ in range(2):
        for counters in processes:
            await counters.sync()


async def test_two_processes_count_together_once_they_have_synced(
    processes: tuple[RateCounters, RateCounters, Clock],
) -> None:
    one, two, _ = processes

    first = hits(one, 1) + hits(two, 1)
    await synced(one, two)
    second = hits(one, 1)
    await synced(one, two)
    third = hits(two, 1) + hits(one, 1)

    assert first == [True, True]
    assert second == [True]
    assert third == [False, False]


async def test_a_process_learns_of_a_key_counted_elsewhere_at_its_next_sync(
    processes: tuple[RateCounters, RateCounters, Clock],
) -> None:
    one, two, _ = processes
    hits(one, 3)
    await one.sync()

    unknown_yet = hits(two, 1)
    await two.sync()

    assert unknown_yet == [True]
    assert hits(two, 1) == [False]


async def test_before_a_sync_each_process_sees_only_its_own_requests(
    processes: tuple[RateCounters, RateCounters, Clock],
) -> None:
    one, two, _ = processes

    assert hits(one, 3) == [True, True, True]
    assert hits(two, 3) == [True, True, True]
    await one.sync()
    await two.sync()
    await one.sync()

    assert hits(one, 1) == [False]
    assert hits(two, 1) == [False]


async def test_a_sync_starts_in_the_background_once_the_interval_has_passed(
    processes: tuple[RateCounters, RateCounters, Clock],
) -> None:
    one, two, clock = processes
    hits(two, 1)
    hits(one, 2)
    assert one.syncing is None

    clock.now += 1.0
    one.hit(THREE_A_MINUTE, "token:other")
    started = one.syncing
    assert started is not None
    await started
    await two.sync()

    assert hits(two, 1) == [False]


async def test_the_previous_minute_is_read_from_redis_too(
    processes: tuple[RateCounters, RateCounters, Clock],
) -> None:
    one, two, clock = processes
    hits(one, 3)
    await one.sync()

    clock.now = START + 60 + 1
    hits(two, 1)  # a key two has never counted: read at its next sync
    await two.sync()

    assert hits(two, 1) == [False]


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_without_redis_a_process_counts_alone_and_refuses_nothing_for_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unreachable = Redis.from_url(f"redis://127.0.0.1:{unused_port()}/0", socket_connect_timeout=1)
    counters = RateCounters(unreachable, "nowhere:rate", 1.0, Clock())
    caplog.set_level(logging.WARNING)
    try:
        allowed = hits(counters, 3)
        await counters.sync()
        await counters.sync()
        refused = hits(counters, 1)
    finally:
        await counters.close()

    assert allowed == [True, True, True]
    assert refused == [False]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "rate limit storage unreachable" in warnings[0]


async def test_requests_made_while_redis_was_away_are_sent_once_it_is_back(
    processes: tuple[RateCounters, RateCounters, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two, _ = processes
    hits(two, 1)
    hits(one, 2)
    with monkeypatch.context() as outage:
        outage.setattr(Pipeline, "execute", refused_connection)
        await one.sync()
    await one.sync()
    await two.sync()

    assert hits(two, 1) == [False]


async def refused_connection(*_arguments: object, **_options: object) -> list[object]:
    raise RedisConnectionError("Connection refused")
