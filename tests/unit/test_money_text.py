"""Money as the Decimal scalar's text: at least two places, no trailing zeros beyond."""

from __future__ import annotations

from decimal import Decimal

import pytest

from api.scalars import money


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("12.50", "12.50"),  # two places already: as it is
        ("-1.20", "-1.20"),
        ("0.00", "0.00"),
        ("-0.00", "-0.00"),
        ("12.5000", "12.50"),
        ("0.333300", "0.3333"),
        ("12.345", "12.345"),
        ("5", "5.00"),
        ("12", "12.00"),  # two characters, no dot
        ("99", "99.00"),
        ("-1", "-1.00"),
        ("-0", "-0.00"),
        ("1E+1", "10.00"),
        ("1.2E+1", "12.00"),
        ("123", "123.00"),
        ("0", "0.00"),
        ("1E+2", "100.00"),
        ("1.5E-3", "0.0015"),
        ("123456789012.3", "123456789012.30"),
    ],
)
def test_money_text(value: str, shown: str) -> None:
    assert money(Decimal(value)) == shown


def test_no_money_is_null() -> None:
    assert money(None) is None
