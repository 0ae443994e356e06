"""Points from a sale, and the validation of what a till sends: table tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.errors import InvalidInput
from domain.money import parse_decimal
from domain.rules import EarningRule, RuleKind, Sale, calculate
from domain.sales import SaleLine, sale_line, sale_lines

PATH = ("input", "lines", "0")
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


@dataclass(frozen=True)
class EarningRates:
    """A programme of a base rate and category rates, as earning rules."""

    base: Decimal
    by_category: Mapping[str, Decimal] = field(default_factory=dict)

    def rules(self) -> list[EarningRule]:
        return [
            EarningRule(category, 1, category, RuleKind.CATEGORY_RATE, rate, category=category)
            for category, rate in self.by_category.items()
        ]


def points_for_sale(lines: list[SaleLine], rates: EarningRates) -> int:
    return calculate(rates.rules(), Sale.of("S1", NOW, lines), rates.base).points


RATES = EarningRates(
    base=Decimal("1"),
    by_category={"beauty": Decimal("3"), "fuel": Decimal("0.5"), "tobacco": Decimal("0")},
)


def line(unit_price: str, quantity: int = 1, category: str = "grocery") -> SaleLine:
    return SaleLine(
        sku="SKU-1", category=category, quantity=quantity, unit_price=Decimal(unit_price)
    )


@pytest.mark.parametrize(
    ("lines", "rates", "points"),
    [
        pytest.param([line("10.00")], RATES, 10, id="base rate"),
        pytest.param([line("10.00", 3)], RATES, 30, id="quantity multiplies"),
        pytest.param([line("10.00", category="beauty")], RATES, 30, id="category rate"),
        pytest.param([line("10.00", category="toys")], RATES, 10, id="unrated category: base"),
        pytest.param([line("10.00", category="tobacco")], RATES, 0, id="zero category rate"),
        pytest.param([line("10.00", category="fuel")], RATES, 5, id="half a point per unit"),
        pytest.param([line("9.00", category="fuel")], RATES, 4, id="half rate rounds down"),
        pytest.param(
            [line("10.00"), line("10.00", 2, "beauty"), line("10.00", category="fuel")],
            RATES,
            10 + 60 + 5,
            id="mixed categories add up",
        ),
        pytest.param([line("0.40")] * 3, RATES, 1, id="three 0.40 lines earn 1, not 0"),
        pytest.param([line("0.99")], RATES, 0, id="0.99 earns nothing"),
        pytest.param([line("0.33", category="fuel")] * 6, RATES, 0, id="0.99 from six lines"),
        pytest.param([line("0.50", category="fuel")] * 4, RATES, 1, id="exact 1.00 from lines"),
        pytest.param([line("19.99")], RATES, 19, id="rounded down, never up"),
        pytest.param([line("0.00")], RATES, 0, id="free item"),
        pytest.param([line("100.00")], EarningRates(Decimal("0")), 0, id="zero base rate"),
        pytest.param(
            [line("100.00", category="beauty")],
            EarningRates(Decimal("0"), {"beauty": Decimal("2")}),
            200,
            id="category rate over a zero base",
        ),
        pytest.param([line("7.00")], EarningRates(Decimal("0.25")), 1, id="fractional base"),
        pytest.param([line("0.3333", 3)], EarningRates(Decimal("3")), 2, id="0.9999 * 3 = 2.9997"),
    ],
)
def test_points_for_sale_sums_lines_exactly_and_rounds_down_once(
    lines: list[SaleLine], rates: EarningRates, points: int
) -> None:
    assert points_for_sale(lines, rates) == points


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("12.50", Decimal("12.50")),
        ("0", Decimal("0")),
        ("7", Decimal("7")),
        (" 7.25 ", Decimal("7.25")),
        ("0.0001", Decimal("0.0001")),
        ("999999999.9999", Decimal("999999999.9999")),
        (7, Decimal("7")),
    ],
)
def test_parse_decimal_accepts_plain_non_negative_decimals(raw: object, value: Decimal) -> None:
    parsed = parse_decimal(raw, ("input", "unitPrice"))

    assert parsed == value
    assert str(parsed) == str(value)  # the places typed are kept, "12.50" stays "12.50"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(12.5, id="float"),
        pytest.param(True, id="bool"),
        pytest.param(False, id="false"),
        pytest.param(None, id="none"),
        pytest.param("", id="empty"),
        pytest.param("12.5x", id="trailing junk"),
        pytest.param("twelve", id="words"),
        pytest.param("1,50", id="decimal comma"),
        pytest.param("NaN", id="NaN"),
        pytest.param("sNaN", id="signalling NaN"),
        pytest.param("Infinity", id="Infinity"),
        pytest.param("-Infinity", id="-Infinity"),
        pytest.param("-0.01", id="negative"),
        pytest.param(-1, id="negative int"),
        pytest.param("0.00001", id="5 decimal places"),
        pytest.param("1.00000", id="5 places even when zero"),
        pytest.param("1000000000", id="one billion"),
        pytest.param("1E9", id="one billion in exponent form"),
        pytest.param("1000000000.0000", id="one billion with places"),
    ],
)
def test_parse_decimal_refuses_anything_but_a_bounded_decimal_string(raw: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_decimal(raw, ("input", "lines", "2", "unitPrice"))

    assert refused.value.field == ("input", "lines", "2", "unitPrice")


def test_sale_line_keeps_a_valid_line_trimmed() -> None:
    checked = sale_line(" SKU-9 ", " beauty ", 1_000_000, "0.25", PATH)

    assert checked == SaleLine("SKU-9", "beauty", 1_000_000, Decimal("0.25"))


@pytest.mark.parametrize("quantity", [0, -1, 1_000_001])
def test_sale_line_refuses_a_quantity_out_of_range(quantity: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        sale_line("SKU-1", "grocery", quantity, "1.00", PATH)

    assert refused.value.field == (*PATH, "quantity")


@pytest.mark.parametrize(
    ("sku", "category", "field"),
    [
        ("", "grocery", "sku"),
        ("   ", "grocery", "sku"),
        ("x" * 101, "grocery", "sku"),
        ("SKU-1", "", "category"),
        ("SKU-1", " \t ", "category"),
        ("SKU-1", "c" * 101, "category"),
    ],
)
def test_sale_line_refuses_a_blank_or_overlong_label(sku: str, category: str, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        sale_line(sku, category, 1, "1.00", PATH)

    assert refused.value.field == (*PATH, field)


def test_sale_line_names_the_unit_price_it_refuses() -> None:
    with pytest.raises(InvalidInput) as refused:
        sale_line("SKU-1", "grocery", 1, 1.5, PATH)

    assert refused.value.field == (*PATH, "unitPrice")


@pytest.mark.parametrize("count", [1, 500])
def test_sale_lines_accepts_one_to_five_hundred_lines(count: int) -> None:
    assert len(sale_lines([line("1.00")] * count, ("input", "lines"))) == count


@pytest.mark.parametrize("count", [0, 501])
def test_sale_lines_refuses_an_empty_or_oversized_sale(count: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        sale_lines([line("1.00")] * count, ("input", "lines"))

    assert refused.value.field == ("input", "lines")
