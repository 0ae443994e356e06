"""The pure definitions analytics rest on: percentiles as PostgreSQL's percentile_cont,
values kept to three significant figures, ranges cut into days, weeks and months in a
time zone (clipped at both ends, across daylight saving changes), and the ranges refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from domain.analytics import (
    AnalyticsRange,
    Days,
    Flow,
    Granularity,
    Percentiles,
    Period,
    age_in_days,
    bin_end,
    holdout_scaled,
    midnight,
    percentile,
    significant,
    value_bin,
    zone_of,
)
from domain.errors import InvalidInput

NEW_YORK = zone_of("America/New_York")


def counts(*values: str) -> list[tuple[Decimal, int]]:
    return [(Decimal(value), 1) for value in values]


# Each row's figures are what PostgreSQL answered for
# percentile_cont(array[0.5, 0.9, 0.95]) WITHIN GROUP (ORDER BY v).
@pytest.mark.parametrize(
    ("values", "p50", "p90", "p95"),
    [
        (counts("1", "2", "3", "4"), "2.5", "3.7", "3.85"),
        ([(Decimal(1), 1), (Decimal(2), 3), (Decimal(10), 1)], "2", "6.8", "8.4"),
        (counts("7"), "7", "7", "7"),
        (counts("0.5", "1.25", "3", "100", "2.75", "9"), "2.875", "54.5", "77.25"),
    ],
)
def test_percentiles_match_postgresql_percentile_cont(
    values: list[tuple[Decimal, int]], p50: str, p90: str, p95: str
) -> None:
    assert Percentiles.of(values) == Percentiles(
        sum(count for _, count in values), Decimal(p50), Decimal(p90), Decimal(p95)
    )


def test_a_percentile_of_nothing_is_none_and_values_seen_no_times_do_not_count() -> None:
    assert percentile([], Decimal("0.5")) is None
    assert percentile([(Decimal(5), 0)], Decimal("0.5")) is None
    assert percentile([(Decimal(5), 0), (Decimal(1), 2)], Decimal("0.9")) == Decimal(1)
    assert Percentiles.of([]) == Percentiles(0, None, None, None)


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("1234", "1230"),
        ("1235", "1240"),
        ("1245", "1240"),
        ("999.6", "1000"),
        ("0.0012345", "0.00123"),
        ("5.875", "5.88"),
        ("12", "12"),
        ("0", "0"),
    ],
)
def test_values_are_kept_to_three_significant_figures_rounding_half_to_even(
    value: str, kept: str
) -> None:
    assert significant(Decimal(value)) == Decimal(kept)


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        ("0", "0", "0"),
        ("0.00999", "0.0099", "0.01"),
        ("0.0123", "0.012", "0.013"),
        ("1", "1", "1.1"),
        ("9.99", "9.9", "10"),
        ("10", "10", "11"),
        ("99.9", "99", "100"),
        ("999", "990", "1000"),
        ("1000", "1000", "1100"),
        ("12300", "12000", "13000"),
    ],
)
def test_a_value_is_binned_to_two_significant_figures_cut_down(
    value: str, start: str, end: str
) -> None:
    assert value_bin(Decimal(value)) == Decimal(start)
    assert bin_end(value_bin(Decimal(value))) == Decimal(end)


def test_bins_hold_every_value_in_order() -> None:
    kept = sorted({significant(Decimal(n) / 1000) for n in range(1, 200_000, 7)})
    bins = [value_bin(value) for value in kept]
    assert bins == sorted(bins)
    assert all(start <= v < bin_end(start) for v, start in zip(kept, bins, strict=True))
    assert len(set(bins)) * 5 < len(kept)


def test_a_redemption_age_is_the_points_weighted_mean_never_below_zero() -> None:
    spent_at = datetime(2026, 11, 11, 12, tzinfo=UTC)
    spent = [
        (10, spent_at - timedelta(days=12), spent_at),
        (30, spent_at - timedelta(days=4), spent_at),
        # Dated back before the points it spent were recorded: counts as 0 days old.
        (10, spent_at + timedelta(hours=3), spent_at),
    ]

    assert age_in_days(spent) == Decimal("4.8")
    assert age_in_days([]) is None


def test_a_holdout_revenue_is_scaled_to_the_recipients_count() -> None:
    assert holdout_scaled(Decimal("10.00"), 3, 7) == Decimal("23.3333")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def cut(asked: AnalyticsRange) -> list[tuple[date, date]]:
    return [(period.days.first, period.days.end) for period in asked.periods()]


def test_weeks_start_on_monday_and_the_first_and_last_are_clipped() -> None:
    asked = AnalyticsRange(utc(2026, 11, 4), utc(2026, 11, 18), Granularity.WEEK, "UTC", None)

    periods = asked.periods()

    assert cut(asked) == [
        (date(2026, 11, 4), date(2026, 11, 9)),
        (date(2026, 11, 9), date(2026, 11, 16)),
        (date(2026, 11, 16), date(2026, 11, 18)),
    ]
    assert [period.whole for period in periods] == [False, True, False]
    # The period before a clipped one is the whole week before its week.
    assert periods[0].before() == Days(date(2026, 10, 26), date(2026, 11, 2))
    assert asked.days.before() == Days(date(2026, 10, 21), date(2026, 11, 4))


def test_months_are_cut_at_the_first_of_each_month() -> None:
    asked = AnalyticsRange(utc(2026, 1, 15), utc(2026, 3, 10), Granularity.MONTH, "UTC", None)

    assert cut(asked) == [
        (date(2026, 1, 15), date(2026, 2, 1)),
        (date(2026, 2, 1), date(2026, 3, 1)),
        (date(2026, 3, 1), date(2026, 3, 10)),
    ]
    assert asked.periods()[0].before() == Days(date(2025, 12, 1), date(2026, 1, 1))


def test_days_follow_local_midnight_across_daylight_saving_changes() -> None:
    # New York: 25 hours on 1 November 2026 (clocks back), 23 on 8 March 2026 (forward).
    autumn = AnalyticsRange(
        utc(2026, 10, 31, 4), utc(2026, 11, 2, 5), Granularity.DAY, "America/New_York", None
    )
    spring = AnalyticsRange(
        utc(2026, 3, 8, 5), utc(2026, 3, 9, 4), Granularity.DAY, "America/New_York", None
    )

    assert [asked_start(autumn, p) for p in range(2)] == [utc(2026, 10, 31, 4), utc(2026, 11, 1, 4)]
    assert autumn.instant(date(2026, 11, 2)) - autumn.instant(date(2026, 11, 1)) == timedelta(
        hours=25
    )
    assert cut(spring) == [(date(2026, 3, 8), date(2026, 3, 9))]
    assert spring.end - spring.start == timedelta(hours=23)
    assert midnight(date(2026, 3, 8), NEW_YORK) == utc(2026, 3, 8, 5)


def asked_start(asked: AnalyticsRange, index: int) -> datetime:
    return asked.instant(asked.periods()[index].days.first)


@pytest.mark.parametrize(
    ("start", "end", "zone", "stores"),
    [
        # Not a midnight in the range's zone (midnight UTC is 19:00 in New York).
        (utc(2026, 11, 4), utc(2026, 11, 5), "America/New_York", None),
        (utc(2026, 11, 4), utc(2026, 11, 5, 0, 30), "UTC", None),
        # No offset.
        (datetime(2026, 11, 4), datetime(2026, 11, 5), "UTC", None),
        # Empty or backwards.
        (utc(2026, 11, 5), utc(2026, 11, 5), "UTC", None),
        (utc(2026, 11, 6), utc(2026, 11, 5), "UTC", None),
        # Not a zone; an empty list of stores.
        (utc(2026, 11, 4), utc(2026, 11, 5), "Mars/Olympus", None),
        (utc(2026, 11, 4), utc(2026, 11, 5), "UTC", frozenset()),
        # Longer than the longest range.
        (utc(2020, 1, 1), utc(2026, 1, 1), "UTC", None),
    ],
)
def test_ranges_that_are_not_whole_local_days_are_refused(
    start: datetime, end: datetime, zone: str, stores: frozenset[str] | None
) -> None:
    with pytest.raises(InvalidInput):
        AnalyticsRange(start, end, Granularity.DAY, zone, stores)


def test_a_comparison_needs_both_ends_at_local_midnights() -> None:
    start, end = utc(2026, 11, 4), utc(2026, 11, 5)
    with pytest.raises(InvalidInput):
        AnalyticsRange(start, end, Granularity.DAY, "UTC", None, compare_start=start)
    with pytest.raises(InvalidInput):
        AnalyticsRange(
            start, end, Granularity.DAY, "UTC", None, utc(2026, 10, 1, 1), utc(2026, 10, 2)
        )
    asked = AnalyticsRange(
        start, end, Granularity.DAY, "UTC", None, utc(2026, 10, 1), utc(2026, 10, 8)
    )
    assert asked.comparison == Days(date(2026, 10, 1), date(2026, 10, 8))


def flow_of(n: int) -> Flow:
    """A flow whose every field differs."""
    return Flow(
        sales=n * 10,
        sales_with_redemption=n * 10 + 1,
        checkouts=n * 10 + 2,
        points_earned=n * 10 + 3,
        points_awarded=n * 10 + 4,
        points_redeemed=n * 10 + 5,
        points_expired=n * 10 + 6,
        points_reversed=n * 10 + 7,
        redemptions=n * 10 + 8,
        revenue=Decimal(n) / 4,
        guest_sales=n * 10 + 9,
        guest_revenue=Decimal(n) / 8,
    )


def test_flows_total_field_by_field_as_adding_them_one_by_one() -> None:
    flows = [flow_of(n) for n in (1, 2, 3)]
    total = Flow.total(flows)
    assert total == flows[0] + flows[1] + flows[2]
    assert (total.sales, total.revenue, total.guest_revenue) == (
        60,
        Decimal("1.5"),
        Decimal("0.75"),
    )
    assert Flow.total([]) == Flow()
    assert Flow.total([flows[1]]) == flows[1]


def test_a_period_knows_its_whole_period_and_the_whole_one_before_it() -> None:
    clipped = Period(Days(date(2026, 3, 11), date(2026, 4, 1)), Granularity.MONTH)
    assert (clipped.start, clipped.whole) == (date(2026, 3, 1), False)
    previous = clipped.previous()
    assert previous == Period(Days(date(2026, 2, 1), date(2026, 3, 1)), Granularity.MONTH)
    assert previous.whole
    assert clipped.before() == previous.days
    monday = Period(Days(date(2026, 3, 9), date(2026, 3, 16)), Granularity.WEEK)
    assert (monday.start, monday.whole) == (date(2026, 3, 9), True)
    assert monday.previous().days == Days(date(2026, 3, 2), date(2026, 3, 9))
