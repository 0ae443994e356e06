"""The contract's Decimal scalar: money travels as a decimal string, never a float; and
Int outputs as wide as JSON readers keep exactly."""

from __future__ import annotations

from decimal import Decimal
from typing import NewType

import strawberry
from graphql import GraphQLInt
from strawberry.types.scalar import ScalarDefinition

# A chain's points over years pass 2**31 - 1, the GraphQL Int's range (two years of a
# million members earned 2.27 billion). The contract's point figures are Int, so Int
# outputs up to 2**53 - 1 (what JavaScript and every JSON reader keep exactly) are sent
# as they are; beyond that, and for every Int input, the 32-bit rule stands.
JSON_SAFE_INTEGER = 2**53 - 1
_coerce_int_output = GraphQLInt.coerce_output_value


def _wide_int_output(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= JSON_SAFE_INTEGER:
        return value
    return int(_coerce_int_output(value))


def wide_int_output_allowed() -> bool:
    return GraphQLInt.coerce_output_value is _wide_int_output


def allow_wide_int_output() -> None:
    """Let every Int output carry up to 2**53 - 1 (idempotent)."""
    GraphQLInt.coerce_output_value = _wide_int_output
    GraphQLInt.serialize = _wide_int_output  # type: ignore[method-assign]


# Parsed as given, so that a malformed amount comes back as an INVALID_INPUT user error
# with its field path (domain.money.parse_decimal) rather than as a bare GraphQL error.
DecimalText = NewType("DecimalText", str)


def money(value: Decimal | None) -> DecimalText | None:
    """A Decimal as the scalar's text: at least two places, no trailing zeros beyond them
    ("12.5000" -> "12.50", "0.333300" -> "0.3333")."""
    if value is None:
        return None
    shown = format(value, "f")
    if shown[-3:-2] == ".":  # two places already (most money): as it is
        return DecimalText(shown)
    exact = value.normalize()
    if exact.as_tuple().exponent >= -2:  # type: ignore[operator]
        exact = exact.quantize(Decimal("0.01"))
    return DecimalText(format(exact, "f"))


def amount(value: Decimal) -> DecimalText:
    """A Decimal that is always there, as the scalar's text."""
    shown = money(value)
    assert shown is not None
    return shown


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
