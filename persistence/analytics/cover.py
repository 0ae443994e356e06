"""Which rollup rows make up a run of days: pure helpers of the rollups' reads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, false, or_

from domain.analytics import Days, Granularity, Period, next_period, period_of
from persistence.analytics.tally import QUARTER, YEAR

DAY, WEEK, MONTH = Granularity.DAY.value, Granularity.WEEK.value, Granularity.MONTH.value
Cover = list[tuple[str, date]]  # the (granularity, start) rows that add up to some days


def cover(days: Days) -> Cover:
    """The day and month rows that add up to exactly these days."""
    return _cover(days, ((MONTH, _month_end),))


def cover_values(days: Days) -> list[tuple[str, date]]:
    """The year, quarter, month and day rows of values seen that add up to these days:
    two years are about seven rows' worth of values, not twenty-four months'."""
    return _cover(days, ((YEAR, _year_end), (QUARTER, _quarter_end), (MONTH, _month_end)))


def _cover(
    days: Days, coarse: Sequence[tuple[str, Callable[[date], date | None]]]
) -> list[tuple[str, date]]:
    """Greedily the coarsest row that starts on each day and ends within the days."""
    rows: list[tuple[str, date]] = []
    day = days.first
    while day < days.end:
        for granularity, end_of in coarse:
            end = end_of(day)
            if end is not None and end <= days.end:
                rows.append((granularity, day))
                day = end
                break
        else:
            rows.append((DAY, day))
            day += timedelta(days=1)
    return rows


def _month_end(day: date) -> date | None:
    """The end of the month that starts on this day (None: no month starts on it)."""
    if day.day != 1:
        return None
    return next_period(day, Granularity.MONTH)


def _quarter_end(day: date) -> date | None:
    if day.day != 1 or day.month % 3 != 1:
        return None
    return date(day.year + 1, 1, 1) if day.month == 10 else date(day.year, day.month + 3, 1)


def _year_end(day: date) -> date | None:
    return date(day.year + 1, 1, 1) if (day.month, day.day) == (1, 1) else None


def covering(model: Any, rows: Sequence[tuple[str, date]]) -> Any:
    """The model's rows of these (granularity, start) pairs: days as runs of consecutive
    days (two years by day is one range, not 730 parameters), the rest as lists."""
    runs = _runs(sorted(start for kind, start in rows if kind == DAY))
    starts: dict[str, list[date]] = {}
    for kind, start in rows:
        if kind != DAY:
            starts.setdefault(kind, []).append(start)
    return or_(
        *(
            and_(model.granularity == kind, model.period.in_(sorted(periods)))
            for kind, periods in sorted(starts.items())
        ),
        *(
            and_(model.granularity == DAY, model.period >= first, model.period < end)
            for first, end in runs
        ),
        false(),
    )


def spanning(column: Any, starts: Sequence[date]) -> Any:
    """Periods from the first of these starts to the last, as a range: for the whole
    periods of a report (every period of one granularity between the two, so the range
    holds no other rows of it), two parameters, not hundreds for SQLAlchemy to coerce
    one by one (a millisecond for two years of days)."""
    if not starts:
        return false()
    return and_(column >= min(starts), column <= max(starts))


def _runs(days: Sequence[date]) -> list[tuple[date, date]]:
    """Consecutive days as [first, end) runs."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + timedelta(days=1))
        else:
            runs.append((day, day + timedelta(days=1)))
    return runs


def whole_period(days: Days, period: Period | None) -> Period | None:
    """The period these days are, when they are one whole period of the kind asked."""
    if period is None:
        return None
    candidate = Period(days, period.granularity)
    return candidate if candidate.whole else None


def each_day(days: Days) -> list[date]:
    return [
        date.fromordinal(ordinal) for ordinal in range(days.first.toordinal(), days.end.toordinal())
    ]


def each_month(days: Days) -> list[date]:
    months, month = [], period_of(days.first, Granularity.MONTH)
    while month < days.end:
        months.append(month)
        month = next_period(month, Granularity.MONTH)
    return months
