"""A campaign's revenue window as whole local days (read from the day rollup) and the part
days at its edges (read sale by sale): together exactly [start, end), nothing twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest

from domain.analytics import AnalyticsRange, Granularity, midnight, zone_of
from persistence.analytics.campaigns import Window

NEW_YORK = zone_of("America/New_York")


def new_york_range() -> AnalyticsRange:
    start = midnight(date(2026, 3, 1), NEW_YORK)
    end = midnight(date(2026, 4, 1), NEW_YORK)
    return AnalyticsRange(start, end, Granularity.DAY, "America/New_York", None)


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A New York local time in March 2026, in UTC."""
    local = datetime(2026, 3, day, hour, minute, tzinfo=NEW_YORK)
    return local.astimezone(UTC)


def covered(window: Window) -> list[tuple[datetime, datetime]]:
    """The window as instants: each whole local day, then each part."""
    first, last = window.whole
    spans = []
    if first is not None:
        day = first
        while day < last:
            spans.append((midnight(day, NEW_YORK), midnight(day + timedelta(days=1), NEW_YORK)))
            day += timedelta(days=1)
    return sorted([*spans, *window.parts])


@pytest.mark.parametrize(
    ("start", "end", "whole", "parts"),
    [
        # From midnight to midnight: whole days only (8 March has 23 hours).
        (at(1), at(10), (date(2026, 3, 1), date(2026, 3, 10)), ()),
        # From an award at 14:30 on the 5th: the rest of the 5th sale by sale.
        (at(5, 14, 30), at(10), (date(2026, 3, 6), date(2026, 3, 10)), ((at(5, 14, 30), at(6)),)),
        # Both ends inside days.
        (
            at(5, 14, 30),
            at(9, 9),
            (date(2026, 3, 6), date(2026, 3, 9)),
            ((at(5, 14, 30), at(6)), (at(9), at(9, 9))),
        ),
        # Inside one day: no whole day at all.
        (at(5, 9), at(5, 17), (date(2026, 3, 6), date(2026, 3, 6)), ((at(5, 9), at(5, 17)),)),
        # From 23:00 to 01:00 the next day: two parts, no whole day.
        (at(5, 23), at(6, 1), (date(2026, 3, 6), date(2026, 3, 6)), ((at(5, 23), at(6, 1)),)),
    ],
)
def test_a_window_is_its_whole_local_days_and_its_part_days(
    start: datetime,
    end: datetime,
    whole: tuple[date, date],
    parts: tuple[tuple[datetime, datetime], ...],
) -> None:
    window = Window.of(new_york_range(), start, end)
    assert window.whole == whole
    assert window.parts == parts


@pytest.mark.parametrize(
    ("start", "end"),
    [(at(1), at(31)), (at(7, 22, 15), at(9, 3)), (at(8, 1, 59), at(8, 3, 1)), (at(2, 5), at(30))],
)
def test_the_pieces_cover_the_window_exactly_once(start: datetime, end: datetime) -> None:
    pieces = covered(Window.of(new_york_range(), start, end))
    assert pieces[0][0] == start
    assert pieces[-1][1] == end
    assert all(left[1] == right[0] for left, right in pairwise(pieces))


def test_since_the_beginning_is_every_day_before_the_end_and_the_end_s_own_part() -> None:
    window = Window.of(new_york_range(), None, at(20, 6))
    assert window.whole == (None, date(2026, 3, 20))
    assert window.parts == ((at(20), at(20, 6)),)
    assert Window.of(new_york_range(), None, at(20)).parts == ()
