"""Requests counted in process: a sliding window per key, decided without I/O."""

from __future__ import annotations

from limits import parse

from api.rate_counters import RateCounters

THREE_A_MINUTE = parse("3/minute")
# A moment at the start of a minute, so that windows are easy to read.
START = 1_800_000_000.0 - 1_800_000_000.0 % 60


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def counters(clock: Clock) -> RateCounters:
    return RateCounters(None, "test:rate", sync_seconds=1.0, clock=clock)


def test_requests_past_the_limit_are_refused_and_another_key_still_passes() -> None:
    clock = Clock()
    counted = counters(clock)

    allowed = [counted.hit(THREE_A_MINUTE, "token:a") for _ in range(3)]
    refused = counted.hit(THREE_A_MINUTE, "token:a")
    other = counted.hit(THREE_A_MINUTE, "token:b")

    assert allowed == [True, True, True]
    assert refused is False
    assert other is True


def test_a_refused_request_is_not_counted() -> None:
    clock = Clock()
    counted = counters(clock)
    for _ in range(10):
        counted.hit(THREE_A_MINUTE, "token:a")

    # Two thirds into the next minute, a third of the previous minute's 3 still counts.
    clock.now = START + 60 + 40

    assert [counted.hit(THREE_A_MINUTE, "token:a") for _ in range(3)] == [True, True, False]


def test_the_previous_window_counts_as_much_as_the_sliding_window_still_covers_of_it() -> None:
    clock = Clock()
    counted = counters(clock)
    for _ in range(3):
        counted.hit(THREE_A_MINUTE, "token:a")

    clock.now = START + 60 + 1  # the previous minute still counts almost wholly
    just_after = counted.hit(THREE_A_MINUTE, "token:a")
    clock.now = START + 60 + 30  # half of it: 1.5 requests
    halfway = [counted.hit(THREE_A_MINUTE, "token:a") for _ in range(2)]

    assert just_after is False
    assert halfway == [True, False]


def test_a_window_two_windows_old_counts_for_nothing() -> None:
    clock = Clock()
    counted = counters(clock)
    for _ in range(3):
        counted.hit(THREE_A_MINUTE, "token:a")

    clock.now = START + 120

    assert [counted.hit(THREE_A_MINUTE, "token:a") for _ in range(3)] == [True, True, True]


def test_keys_idle_for_two_windows_are_forgotten_without_redis() -> None:
    clock = Clock()
    counted = counters(clock)
    for number in range(100):
        counted.hit(THREE_A_MINUTE, f"address:10.0.0.{number}")
    clock.now = START + 60
    counted.hit(THREE_A_MINUTE, "token:busy")
    assert len(counted) == 101

    clock.now = START + 120 + 1
    counted.hit(THREE_A_MINUTE, "token:busy")

    assert len(counted) == 1
