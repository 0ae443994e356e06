"""Expected breakage recognised in proportion to redemptions (IFRS 15 B46, ASC 606-10-55-48):
optional, off until an admin sets a rate.

A rate r says what share of the points is expected never to be redeemed. Under it, each
redemption recognises, beside its redemption revenue, breakage revenue of the redeemed value
times r / (1 - r) (the factor: a fifth expected to break is 0.25 per unit redeemed), debited
to a contra account of the liability, the breakage recognised in advance. An expiry then
releases to breakage revenue only what was not recognised in advance; the rest of the
expired points' liability goes against the contra. The contra is one figure derived from
the points journal, never stored:

    in advance = max(factor x redeemed - expired, 0), rounded down to the cent

`redeemed` is every redemption less what refunds gave back and `expired` every expiry, each
in money at the point value of its time, since the journal began. Breakage recognised to
date is so the greater of the expected share and what actually expired: it is never
recognised twice, and never less than what expired. Each entry moves the contra by its own
change of that figure, in the order the entries happened; a change of the rate moves it at
its moment (a change of estimate, recognised at once on a cumulative basis: IFRS 15.88,
ASC 606-10-32-43). Without a rate the factor is 0, the figure is 0 and every posting is
the plain one of domain.valuation.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from domain.errors import InvalidInput
from domain.ledger import BREAKAGE, POINTS_REDEEMED, JournalEntry, TransactionKind
from domain.money import CENT
from domain.valuation import GlRole, MoneyLine, Valuation, checked_places, posting

MAX_BREAKAGE_RATE = Decimal("0.95")
# The factor is kept to 8 places so that factor x redeemed is an exact decimal (a point
# value has 4): the figure is the same however the redemptions are summed.
FACTOR_PLACES = Decimal("1E-8")


def checked_breakage_rate(rate: Decimal) -> Decimal:
    if not rate.is_finite() or rate < 0 or rate > MAX_BREAKAGE_RATE:
        raise InvalidInput(
            f"an expected breakage rate is from 0 (off) to {MAX_BREAKAGE_RATE}", ("input", "rate")
        )
    return checked_places(rate, "a breakage rate", ("input", "rate"))


def factor(rate: Decimal) -> Decimal:
    """Breakage expected per unit of value redeemed: r / (1 - r)."""
    return (rate / (1 - rate)).quantize(FACTOR_PLACES)


@dataclass(frozen=True)
class Totals:
    """What the customers have redeemed (less what refunds gave back) and let expire, in
    money, each movement at the point value of its time."""

    redeemed: Decimal = Decimal(0)
    expired: Decimal = Decimal(0)

    def in_advance(self, factor: Decimal) -> Decimal:
        """Breakage recognised ahead of expiry and not yet matched by it, in whole cents
        (rounded down: never more than the estimate), so that no breakage line has a part
        of a cent for the GL export to round: 2410 there is this figure exactly."""
        return max(factor * self.redeemed - self.expired, Decimal(0)).quantize(CENT, ROUND_DOWN)

    def after(self, entry: JournalEntry, point_value: Decimal) -> Totals:
        redeemed = sum(line.amount for line in entry.lines if line.account == POINTS_REDEEMED)
        expired = sum(line.amount for line in entry.lines if line.account == BREAKAGE)
        if not redeemed and not expired:
            return self
        return Totals(self.redeemed + point_value * redeemed, self.expired + point_value * expired)


@dataclass(frozen=True)
class MoneyPosting:
    """A balanced posting in money, when it happened and in which store (None: the
    programme's own)."""

    at: datetime
    store_id: str | None
    lines: tuple[MoneyLine, ...]


class BreakageInAdvance:
    """The postings of entries given in the order they happened (occurred_at, then id), from
    a moment on, knowing the totals of everything before that moment."""

    def __init__(self, valuation: Valuation, since: datetime, totals: Totals) -> None:
        self._valuation, self._totals = valuation, totals
        self._factor = factor(valuation.breakage_rate_before(since))
        changes = {item.effective_from for item in valuation.breakage_rates}
        self._changes = deque(sorted(moment for moment in changes if moment >= since))

    def postings(self, entry: JournalEntry) -> list[MoneyPosting]:
        """The rate changes that took effect by the entry's time, then the entry's own."""
        at = entry.movement.occurred_at
        due = self._changes_until(lambda moment: moment <= at)
        return [*due, MoneyPosting(at, entry.movement.store_id, self._posting(entry))]

    def changes_before(self, end: datetime) -> list[MoneyPosting]:
        """The rate changes still to come before `end` (after the last entry)."""
        return self._changes_until(lambda moment: moment < end)

    def _posting(self, entry: JournalEntry) -> tuple[MoneyLine, ...]:
        at = entry.movement.occurred_at
        lines = posting(entry, self._valuation)
        before = self._totals
        self._totals = before.after(entry, self._valuation.point_value_at(at))
        if self._totals is before or not self._factor:
            return lines  # nothing redeemed or expired (the figure holds), or no rate (it is 0)
        moved = self._totals.in_advance(self._factor) - before.in_advance(self._factor)
        if not moved:
            return lines
        refund = entry.kind is TransactionKind.REVERSAL
        return (*lines, *self._moved(moved, GlRole.REFUNDS if refund else None, at))

    def _changes_until(self, due: Callable[[datetime], bool]) -> list[MoneyPosting]:
        caught_up = []
        while self._changes and due(self._changes[0]):
            moment = self._changes.popleft()
            before = self._totals.in_advance(self._factor)
            self._factor = factor(self._valuation.breakage_rate_at(moment))
            moved = self._totals.in_advance(self._factor) - before
            if moved:
                caught_up.append(MoneyPosting(moment, None, self._moved(moved, None, moment)))
        return caught_up

    def _moved(self, moved: Decimal, counter: GlRole | None, at: datetime) -> tuple[MoneyLine, ...]:
        """The contra debited by what it grew by (credited by what it fell by), against
        breakage revenue unless a counter role is named."""
        contra = self._valuation.account_at(GlRole.EXPECTED_BREAKAGE, at)
        other = self._valuation.account_at(counter or GlRole.BREAKAGE_REVENUE, at)
        return (MoneyLine(contra, -moved), MoneyLine(other, moved))
