"""How much of a sale's points a refund takes back, and gives back.

Policy: refunds are counted cumulatively, so rounding never adds up to more
than the sale earned. After each refund the share of the sale refunded so far
is worked out; the points taken back so far are the points the sale earned
times that share, rounded down (in the customer's favour), and all of them
once every unit has been returned. This refund takes back the difference from
what earlier refunds took.

- The share of points follows the points each line earned (a line that earned
  nothing, such as tobacco, takes nothing back); bonuses and caps are spread
  with it. A sale whose lines earned nothing at all is shared by amount.
- Points spent on the sale (checkout) are given back in proportion to the
  money refunded, by the same cumulative rule, when the programme says so.
- The money to give back is the returned units' share of what the sale cost in
  money (points paid the rest), by amount, rounded down to the cent by the same
  cumulative rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from domain.errors import InvalidInput
from domain.money import CENT, SMALLEST

ZERO = Decimal(0)


@dataclass(frozen=True)
class SoldLine:
    """A line of a recorded sale: what it earned exactly, and how much of it is back."""

    line_no: int
    quantity: int
    amount: Decimal
    points: Decimal
    refunded_quantity: int

    @property
    def refundable(self) -> int:
        return self.quantity - self.refunded_quantity


@dataclass(frozen=True)
class SoldSale:
    """A recorded sale as a refund sees it."""

    id: int
    entry_id: int
    customer_id: str
    store_id: str
    points: int
    points_redeemed: int
    lines: tuple[SoldLine, ...]
    money_paid: Decimal


@dataclass(frozen=True)
class RefundOutcome:
    points_taken_back: int
    points_given_back: int
    amount_refunded: Decimal
    quantities: Mapping[int, int]


@dataclass(frozen=True)
class Refund:
    """A refund as recorded: of which sale, what it moved, and the new shortfall owed."""

    sale_id: int
    outcome: RefundOutcome
    points_owed: int


def returned_quantities(
    lines: Sequence[SoldLine], asked: Mapping[int, int] | None
) -> dict[int, int]:
    """The units to return per line number; none asked means all that are left."""
    by_number = {line.line_no: line for line in lines}
    if not asked:
        wanted = {line.line_no: line.refundable for line in lines if line.refundable}
        if not wanted:
            raise InvalidInput("this sale has been refunded in full already", ("input",))
        return wanted
    for number, quantity in asked.items():
        field = ("input", "lines")
        line = by_number.get(number)
        if line is None:
            raise InvalidInput(f"the sale has no line {number}", field)
        if quantity < 1 or quantity > line.refundable:
            raise InvalidInput(
                f"line {number} has {line.refundable} unit(s) left to refund, not {quantity}",
                field,
            )
    return dict(asked)


def refund(
    lines: Sequence[SoldLine],
    quantities: Mapping[int, int],
    *,
    earned: int,
    redeemed: int,
    give_back_redeemed: bool,
    money_paid: Decimal | None = None,
) -> RefundOutcome:
    """What this refund takes and gives back. `money_paid` is what the sale cost in money
    (its total less what points paid): the money to give back is its share of it."""
    before = {line.line_no: line.refunded_quantity for line in lines}
    after = {number: done + quantities.get(number, 0) for number, done in before.items()}
    taken = _so_far(earned, lines, after, by_points=True)
    taken -= _so_far(earned, lines, before, by_points=True)
    given = 0
    if give_back_redeemed:
        given = _so_far(redeemed, lines, after, by_points=False)
        given -= _so_far(redeemed, lines, before, by_points=False)
    paid = sum((line.amount for line in lines), ZERO) if money_paid is None else money_paid
    unit = CENT if paid == paid.quantize(CENT) else SMALLEST
    paid_units = int(paid / unit)
    money = _so_far(paid_units, lines, after, by_points=False)
    money -= _so_far(paid_units, lines, before, by_points=False)
    return RefundOutcome(taken, given, money * unit, dict(quantities))


def _so_far(
    points: int, lines: Sequence[SoldLine], returned: Mapping[int, int], *, by_points: bool
) -> int:
    """Of `points`, the part that goes with the units returned so far, rounded down;
    all of it once every unit is back."""
    if all(returned[line.line_no] == line.quantity for line in lines):
        return points
    weights = [line.points if by_points else line.amount for line in lines]
    if by_points and sum(weights, ZERO) == 0:
        weights = [line.amount for line in lines]
    whole = sum(weights, ZERO)
    if whole == 0:
        return 0
    # Fractions keep the share exact: a third of a sale is a third, not 0.333...
    part = sum(
        (
            Fraction(w) * returned[line.line_no] / line.quantity
            for w, line in zip(weights, lines, strict=True)
        ),
        Fraction(0),
    )
    return math.floor(points * part / Fraction(whole))
