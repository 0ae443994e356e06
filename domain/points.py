"""Points from a sale: money in, whole points out.

Rounding policy (one, everywhere): each line earns exactly, in Decimal (see
domain/rules.py for the rules); the sale's total is rounded *down* to whole
points once. So 3 lines of 0.40 points each earn 1 point, not 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from domain.errors import FieldPath, InvalidInput

MAX_AMOUNT = Decimal("1000000000")
MAX_DECIMAL_PLACES = 4
MAX_QUANTITY = 1_000_000
MAX_LINES = 500
MAX_LABEL_LENGTH = 100
SMALLEST = Decimal("0.0001")


def parse_decimal(raw: object, field_path: FieldPath, *, what: str = "amount") -> Decimal:
    """A non-negative decimal given as a string, e.g. "12.50"; floats are refused."""
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise InvalidInput(f'{what} must be a decimal string such as "12.50"', field_path)
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise InvalidInput(
            f"{what} is not a decimal number: {str(raw)[:40]!r}", field_path
        ) from None
    if not value.is_finite() or value < 0 or value >= MAX_AMOUNT:
        raise InvalidInput(f"{what} must be between 0 and {MAX_AMOUNT}", field_path)
    if -int(value.as_tuple().exponent) > MAX_DECIMAL_PLACES:
        raise InvalidInput(f"{what} has more than {MAX_DECIMAL_PLACES} decimal places", field_path)
    return value


def require_label(raw: str, field_path: FieldPath, *, what: str) -> str:
    label = raw.strip()
    if not label or len(label) > MAX_LABEL_LENGTH:
        raise InvalidInput(f"{what} must be 1 to {MAX_LABEL_LENGTH} characters", field_path)
    return label


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
