"""The contract's Decimal scalar: money travels as a decimal string, never a float."""

from __future__ import annotations

from decimal import Decimal
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

# Parsed as given, so that a malformed amount comes back as an INVALID_INPUT user error
# with its field path (domain.points.parse_decimal) rather than as a bare GraphQL error.
DecimalText = NewType("DecimalText", str)


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
