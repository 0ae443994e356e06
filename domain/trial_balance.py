"""The trial balance: every account's balance at a moment, counting each movement at the
time it happened, valued at the point value.

It is read from a snapshot taken at a moment before which nothing can be recorded any more
(the end of a closed period, or a midnight further back than a till may date a sale), plus
the movements between that snapshot and the moment asked: never by replaying the journal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

CUSTOMERS = "customer:*"
OWED = "owed:*"


@dataclass(frozen=True)
class AccountBalance:
    account: str
    points: int
    value: Decimal


@dataclass(frozen=True)
class TrialBalance:
    at: datetime
    accounts: tuple[AccountBalance, ...]

    @property
    def total_points(self) -> int:
        return sum(account.points for account in self.accounts)


def trial_balance(at: datetime, sums: Mapping[str, int], point_value: Decimal) -> TrialBalance:
    """The accounts' sums in account order (the customers' and points owed summed); a point
    value has at most four places, so each value is exact."""
    accounts = tuple(
        AccountBalance(account, points, point_value * points)
        for account, points in sorted(sums.items())
    )
    return TrialBalance(at, accounts)


def settled_until(now: datetime, closed_until: datetime | None, back: timedelta) -> datetime:
    """Before this moment nothing can be recorded any more: the end of the closed period, or
    how far back a till may date a sale (and its clock be wrong), whichever is later."""
    horizon = now - back
    return horizon if closed_until is None else max(horizon, closed_until)


def midnights_between(after: datetime, through: datetime) -> list[datetime]:
    """Each UTC midnight after `after`, up to and including `through`."""
    first = datetime.combine(after.date() + timedelta(days=1), time(), after.tzinfo)
    days = (through - first).days + 1 if through >= first else 0
    return [first + timedelta(days=day) for day in range(days)]
