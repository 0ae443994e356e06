"""A sale as the till sends it: lines of skus in categories, at unit prices."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from domain.errors import FieldPath, InvalidInput
from domain.labels import require_label
from domain.money import SMALLEST, parse_decimal

MAX_QUANTITY = 1_000_000
MAX_LINES = 500


@dataclass(frozen=True)
class SaleLine:
    sku: str
    category: str
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


def sale_line(
    sku: str, category: str, quantity: int, unit_price: object, field_path: FieldPath
) -> SaleLine:
    """A validated sale line; `field_path` names the line, e.g. ("input", "lines", "0")."""
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(
            f"quantity must be between 1 and {MAX_QUANTITY}", (*field_path, "quantity")
        )
    return SaleLine(
        sku=require_label(sku, (*field_path, "sku"), what="sku"),
        category=require_label(category, (*field_path, "category"), what="category"),
        quantity=quantity,
        unit_price=parse_decimal(unit_price, (*field_path, "unitPrice"), what="unitPrice"),
    )


def sale_lines(lines: Iterable[SaleLine], field_path: FieldPath) -> tuple[SaleLine, ...]:
    checked = tuple(lines)
    if not 1 <= len(checked) <= MAX_LINES:
        raise InvalidInput(f"a sale needs 1 to {MAX_LINES} lines", field_path)
    return checked


def sale_total(lines: Iterable[SaleLine]) -> Decimal:
    return sum((line.amount for line in lines), Decimal(0))


def allocate_discount(lines: Sequence[SaleLine], discount: Decimal) -> tuple[Decimal, ...]:
    """What each line was paid in money when `discount` came off the sale: the discount is
    spread in proportion to the lines' amounts, rounded down to 0.0001, and what rounding
    leaves goes on the largest lines (never taking a line below zero)."""
    total = sale_total(lines)
    if discount <= 0 or total <= 0:
        return tuple(line.amount for line in lines)
    discount = min(discount, total)
    shares = [
        (discount * line.amount / total).quantize(SMALLEST, rounding=ROUND_FLOOR) for line in lines
    ]
    left = discount - sum(shares, Decimal(0))
    for index in sorted(range(len(lines)), key=lambda i: lines[i].amount, reverse=True):
        step = min(left, lines[index].amount - shares[index])
        shares[index] += step
        left -= step
    return tuple(line.amount - share for line, share in zip(lines, shares, strict=True))
