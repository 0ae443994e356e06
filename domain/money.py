"""Money as the programme takes it in: decimal text, never a float, to four places."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from domain.errors import FieldPath, InvalidInput

MAX_AMOUNT = Decimal("1000000000")
MAX_DECIMAL_PLACES = 4
CENT = Decimal("0.01")
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
