"""Which rollup rows make up a run of days: pure helpers of the rollups' reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, or_

from domain.analytics import Days, Granularity, Period, next_period, period_of

DAY, WEEK, MONTH = Granularity.DAY.value, Granularity.WEEK.value, Granularity.MONTH.value


def cover(days: Days) -> list[tuple[str, date]]:
    """The day and month rows that add up to exactly these days."""
    rows: list[tuple[str, date]] = []
    day = days.first
    while day < days.end:
        month_end = next_period(period_of(day, Granularity.MONTH), Granularity.MONTH)
        if day.day == 1 and month_end <= days.end:
            rows.append((MONTH, day))
            day = month_end
        else:
            rows.append((DAY, day))
            day = date.fromordinal(day.toordinal() + 1)
    return rows


def covering(model: Any, rows: Sequence[tuple[str, date]]) -> Any:
    """The model's rows of these (granularity, start) pairs: months as a list, days as
    runs of consecutive days (two years by day is one range, not 730 parameters)."""
    months = sorted(start for kind, start in rows if kind == MONTH)
    runs = _runs(sorted(start for kind, start in rows if kind == DAY))
    return or_(
        and_(model.granularity == MONTH, model.period.in_(months)),
        *(
            and_(model.granularity == DAY, model.period >= first, model.period < end)
            for first, end in runs
        ),
    )


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
