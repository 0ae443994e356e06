"""Which rollup rows add up to a run of days: exactly those days, each once, with the
coarsest rows that fit (values seen also by quarter and year)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.analytics import Days
from persistence.analytics.cover import cover, cover_values
from persistence.analytics.tally import value_buckets


def end_of(granularity: str, start: date) -> date:
    if granularity == "DAY":
        return start + timedelta(days=1)
    months = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}[granularity]
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def test_two_years_of_values_are_seven_rows_not_twenty_four_months() -> None:
    days = Days(date(2024, 11, 1), date(2026, 11, 1))
    assert cover_values(days) == [
        ("MONTH", date(2024, 11, 1)),
        ("MONTH", date(2024, 12, 1)),
        ("YEAR", date(2025, 1, 1)),
        ("QUARTER", date(2026, 1, 1)),
        ("QUARTER", date(2026, 4, 1)),
        ("QUARTER", date(2026, 7, 1)),
        ("MONTH", date(2026, 10, 1)),
    ]
    assert len(cover(days)) == 24


def test_part_months_are_days() -> None:
    days = Days(date(2026, 3, 30), date(2026, 5, 2))
    assert cover_values(days) == [
        ("DAY", date(2026, 3, 30)),
        ("DAY", date(2026, 3, 31)),
        ("MONTH", date(2026, 4, 1)),
        ("DAY", date(2026, 5, 1)),
    ]


@given(
    first=st.dates(date(2023, 1, 1), date(2027, 12, 31)),
    length=st.integers(0, 900),
    values=st.booleans(),
)
def test_the_rows_are_the_days_exactly_once(first: date, length: int, values: bool) -> None:
    days = Days(first, first + timedelta(days=length))
    rows = (cover_values if values else cover)(days)
    day = days.first
    for granularity, start in rows:
        assert start == day
        day = end_of(granularity, start)
    assert day == days.end


@given(day=st.dates(date(2020, 1, 1), date(2030, 12, 31)))
def test_a_value_seen_on_a_day_is_in_the_rows_that_cover_that_day(day: date) -> None:
    kept = dict(value_buckets(day))
    assert set(kept) == {"DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}
    week = kept.pop("WEEK")
    assert week.weekday() == 0
    assert week <= day < week + timedelta(days=7)
    for granularity, start in kept.items():
        assert start <= day < end_of(granularity, start)
    assert kept["DAY"] == day
    assert kept["QUARTER"].month in (1, 4, 7, 10)
    assert kept["YEAR"] == date(day.year, 1, 1)
