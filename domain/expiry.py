"""When points expire: never, a number of months after they were earned (oldest first),
or all of them after months without a sale or redemption."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum


class ExpiryKind(StrEnum):
    NEVER = "never"
    EARNED = "earned"
    INACTIVITY = "inactivity"


def months_after(at: datetime, months: int) -> datetime:
    """The same day `months` later, or the month's last day when it is shorter
    (31 January + 1 month = 28 or 29 February)."""
    index = at.year * 12 + at.month - 1 + months
    year, month = divmod(index, 12)
    day = min(at.day, calendar.monthrange(year, month + 1)[1])
    return at.replace(year=year, month=month + 1, day=day)


@dataclass(frozen=True)
class ExpiryPolicy:
    kind: ExpiryKind = ExpiryKind.NEVER
    months: int = 12

    def cutoff(self, now: datetime) -> datetime:
        """Points earned (or, for inactivity, last activity) at or before this have expired."""
        return months_after(now, -self.months)

    def expires_at(self, earned_or_active_at: datetime) -> datetime:
        """The first moment `cutoff` reaches `earned_or_active_at`: the same day `months`
        later, or, where that month is too short (29 February + 12 months), the start of
        the day after its last day."""
        later = months_after(earned_or_active_at, self.months)
        if later.day == earned_or_active_at.day:
            return later
        return datetime.combine(later.date() + timedelta(days=1), time.min, later.tzinfo)

    def reason(self, now: datetime) -> str:
        if self.kind is ExpiryKind.INACTIVITY:
            return f"no sale or redemption for {self.months} months"
        return f"points earned before {self.cutoff(now):%Y-%m-%d} ({self.months} months)"


@dataclass(frozen=True)
class Expiring:
    """The points that expire next, and when."""

    points: int
    at: datetime
