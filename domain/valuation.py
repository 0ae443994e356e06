"""Points valued in money, and the general-ledger accounts they are booked to.

A point is worth its standalone selling price (the point value), which an admin sets with
the moment it takes effect; until one is set, the configured default. Each line of the
points journal is booked to a GL account by its role, which the account map names (code
and name), also from a moment on. Values and accounts that changed before the end of a
closed period would change its books, so they are refused there.

Signs are the journal's: a positive amount credits an account, a negative one debits it.
Under IFRS 15 / ASC 606 points are a separate performance obligation, so:
- an earn defers the points' value out of sales revenue into the loyalty liability;
- a redemption releases it from the liability to redemption revenue;
- an expiry releases it to breakage revenue;
- a campaign award is marketing expense against the liability;
- an adjustment is booked against the adjustments account;
- a refund (and a reversed award) books the points it takes back and gives back to the
  refunds account (the award's campaign for an award), undoing what the sale did.
An expected breakage rate, when an admin sets one, also recognises breakage in proportion
to redemptions against a contra account of the liability (domain.breakage).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar

from domain.errors import InvalidInput
from domain.ledger import (
    ADJUSTMENTS,
    BREAKAGE,
    POINTS_ISSUED,
    POINTS_REDEEMED,
    Actor,
    JournalEntry,
    TransactionKind,
)

MAX_PLACES = 4
MAX_POINT_VALUE = Decimal(1000)


class GlRole(StrEnum):
    LIABILITY = "LIABILITY"
    DEFERRED_REVENUE = "DEFERRED_REVENUE"
    REDEMPTION_REVENUE = "REDEMPTION_REVENUE"
    BREAKAGE_REVENUE = "BREAKAGE_REVENUE"
    MARKETING_EXPENSE = "MARKETING_EXPENSE"
    ADJUSTMENTS = "ADJUSTMENTS"
    REFUNDS = "REFUNDS"
    # A contra account of the liability: breakage recognised ahead of expiry (domain.breakage).
    EXPECTED_BREAKAGE = "EXPECTED_BREAKAGE"


@dataclass(frozen=True)
class GlAccount:
    role: GlRole
    code: str
    name: str


DEFAULT_CHART = {
    account.role: account
    for account in (
        GlAccount(GlRole.LIABILITY, "2400", "Loyalty points liability"),
        GlAccount(GlRole.EXPECTED_BREAKAGE, "2410", "Loyalty liability: breakage in advance"),
        GlAccount(GlRole.DEFERRED_REVENUE, "4000", "Sales revenue"),
        GlAccount(GlRole.REDEMPTION_REVENUE, "4010", "Loyalty redemption revenue"),
        GlAccount(GlRole.BREAKAGE_REVENUE, "4020", "Loyalty breakage revenue"),
        GlAccount(GlRole.REFUNDS, "4090", "Sales returns (loyalty points)"),
        GlAccount(GlRole.MARKETING_EXPENSE, "6100", "Marketing expense (loyalty campaigns)"),
        GlAccount(GlRole.ADJUSTMENTS, "6110", "Loyalty adjustments"),
    )
}


def role_of(account: str, kind: TransactionKind) -> GlRole:
    """The GL role of a journal account's line in an entry of this kind."""
    if account.startswith(("customer:", "owed:")):
        return GlRole.LIABILITY
    if account.startswith("programme:promotions:"):
        return GlRole.MARKETING_EXPENSE
    if kind is TransactionKind.REVERSAL and account in {POINTS_ISSUED, POINTS_REDEEMED}:
        return GlRole.REFUNDS
    roles = {
        POINTS_ISSUED: GlRole.DEFERRED_REVENUE,
        POINTS_REDEEMED: GlRole.REDEMPTION_REVENUE,
        BREAKAGE: GlRole.BREAKAGE_REVENUE,
        ADJUSTMENTS: GlRole.ADJUSTMENTS,
    }
    if account not in roles:
        raise ValueError(f"no GL role for the journal account {account!r}")
    return roles[account]


T = TypeVar("T")


@dataclass(frozen=True)
class Effective(Generic[T]):
    """What holds from a moment on."""

    effective_from: datetime
    value: T


def in_force(history: Sequence[Effective[T]], at: datetime) -> T | None:
    """The last of `history` (sorted by effective_from) in force at `at`."""
    index = bisect_right([item.effective_from for item in history], at)
    return history[index - 1].value if index else None


def in_force_before(history: Sequence[Effective[T]], at: datetime) -> T | None:
    """The last of `history` in force just before `at`."""
    index = bisect_left([item.effective_from for item in history], at)
    return history[index - 1].value if index else None


@dataclass(frozen=True)
class Valuation:
    """The point values, the account map and the expected breakage rates over time."""

    default_point_value: Decimal
    point_values: tuple[Effective[Decimal], ...] = ()
    accounts: tuple[Effective[GlAccount], ...] = ()
    breakage_rates: tuple[Effective[Decimal], ...] = ()

    def point_value_at(self, at: datetime) -> Decimal:
        found = in_force(self.point_values, at)
        return self.default_point_value if found is None else found

    def account_at(self, role: GlRole, at: datetime) -> GlAccount:
        mapped = [item for item in self.accounts if item.value.role is role]
        found = in_force(mapped, at)
        return DEFAULT_CHART[role] if found is None else found

    def breakage_rate_at(self, at: datetime) -> Decimal:
        """The expected breakage rate in force (0, off, until one is set)."""
        found = in_force(self.breakage_rates, at)
        return Decimal(0) if found is None else found

    def breakage_rate_before(self, at: datetime) -> Decimal:
        found = in_force_before(self.breakage_rates, at)
        return Decimal(0) if found is None else found


@dataclass(frozen=True)
class MoneyLine:
    """A posting's line: positive credits the account, negative debits it."""

    account: GlAccount
    amount: Decimal


def posting(entry: JournalEntry, valuation: Valuation) -> tuple[MoneyLine, ...]:
    """The entry in money: each line valued at the point value in force when it happened,
    booked by its role; balanced as the entry is."""
    at = entry.movement.occurred_at
    value = valuation.point_value_at(at)
    return tuple(
        MoneyLine(valuation.account_at(role_of(line.account, entry.kind), at), value * line.amount)
        for line in entry.lines
    )


@dataclass(frozen=True)
class ValuationChange:
    """A point value, an account of the map or an expected breakage rate, from a moment on;
    who set it and when."""

    effective_from: datetime
    actor: Actor
    at: datetime
    point_value: Decimal | None = None
    account: GlAccount | None = None
    breakage_rate: Decimal | None = None


def checked_point_value(value: Decimal) -> Decimal:
    if not value.is_finite() or value <= 0 or value > MAX_POINT_VALUE:
        raise InvalidInput(
            f"a point value is above 0 and at most {MAX_POINT_VALUE}", ("input", "value")
        )
    return checked_places(value, "a point value", ("input", "value"))


def checked_places(amount: Decimal, what: str, field: tuple[str, ...]) -> Decimal:
    """An amount of the valuation (a point value, a rate) with at most MAX_PLACES decimals."""
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_PLACES:
        raise InvalidInput(f"{what} has at most {MAX_PLACES} decimal places", field)
    return amount


def checked_account(role: GlRole, code: str, name: str) -> GlAccount:
    code, name = code.strip(), name.strip()
    if not code or len(code) > 40:
        raise InvalidInput("an account code of 1 to 40 characters is needed", ("input", "code"))
    if not name or len(name) > 120:
        raise InvalidInput("an account name of 1 to 120 characters is needed", ("input", "name"))
    return GlAccount(role, code, name)


def refuse_in_closed_period(effective_from: datetime, closed_until: datetime | None) -> None:
    """A change taking effect inside a closed period would change its books."""
    if closed_until is not None and effective_from < closed_until:
        raise InvalidInput(
            f"the period is closed: a change may take effect from {closed_until.isoformat()} on",
            ("input", "effectiveFrom"),
        )
