"""The contract's Decimal scalar: money travels as a decimal string, never a float."""

from __future__ import annotations

from decimal import Decimal
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

# Parsed as given, so that a malformed amount comes back as an INVALID_INPUT user error
# with its field path (domain.money.parse_decimal) rather than as a bare GraphQL error.
DecimalText = NewType("DecimalText", str)


def money(value: Decimal | None) -> DecimalText | None:
    """A Decimal as the scalar's text: at least two places, no trailing zeros beyond them
    ("12.5000" -> "12.50", "0.333300" -> "0.3333")."""
    if value is None:
        return None
    exact = value.normalize()
    if exact.as_tuple().exponent >= -2:  # type: ignore[operator]
        exact = exact.quantize(Decimal("0.01"))
    return DecimalText(format(exact, "f"))


def _serialize(value: object) -> str:
    return format(Decimal(str(value)), "f")


def _parse(value: object) -> object:
    return value


SCALAR_MAP: dict[object, ScalarDefinition] = {
    DecimalText: strawberry.scalar(
        name="Decimal",
        description='A money amount as a decimal string (e.g. "12.50"), never a float.',
        serialize=_serialize,
        parse_value=_parse,
    )
}
