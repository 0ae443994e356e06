"""The stacking policy of domain/rules.py as tables: which rules apply to a sale, how they
stack, how caps cut them and how the exact total is rounded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.rules import (
    Contribution,
    ContributionKind,
    EarnCalculation,
    EarningRule,
    RuleKind,
    Sale,
    Schedule,
    calculate,
)
from domain.sales import SaleLine

BASE, CATEGORY, PRODUCT = RuleKind.BASE_RATE, RuleKind.CATEGORY_RATE, RuleKind.PRODUCT_RATE
MULTIPLIER, BONUS = RuleKind.MULTIPLIER, RuleKind.FLAT_BONUS
MONDAY = datetime(2026, 11, 23, 12, tzinfo=UTC)
NOW = MONDAY + timedelta(days=2)


def line(
    price: str = "10.00", category: str = "grocery", sku: str = "SKU-1", quantity: int = 1
) -> SaleLine:
    return SaleLine(sku, category, quantity, Decimal(price))


def rule(rule_id: str, kind: RuleKind, rate: str | None = None, **fields: Any) -> EarningRule:
    return EarningRule(rule_id, 1, rule_id, kind, None if rate is None else Decimal(rate), **fields)


def bonus(points: int = 100, **fields: Any) -> EarningRule:
    return rule("bonus", BONUS, bonus_points=points, **fields)


def earn(
    rules: Sequence[EarningRule],
    lines: Sequence[SaleLine] = (line(),),
    *,
    base_rate: str = "1",
    at: datetime = NOW,
    store: str = "S1",
    amounts: Sequence[Decimal] | None = None,
    used_today: Mapping[str, Decimal] | None = None,
) -> EarnCalculation:
    sale = Sale.of(store, at, lines, amounts)
    return calculate(rules, sale, Decimal(base_rate), used_today)


@pytest.mark.parametrize(
    ("rules", "sold", "points"),
    [
        pytest.param([], line(), 10, id="no rule: programme base rate"),
        pytest.param([rule("b", BASE, "2")], line(), 20, id="base rule over programme rate"),
        pytest.param([rule("b", BASE, "0")], line(), 0, id="zero base rule over programme rate"),
        pytest.param(
            [rule("b", BASE, "2"), rule("t", CATEGORY, "0", category="tobacco")],
            line(category="tobacco"),
            0,
            id="category rate 0 beats a higher base rule",
        ),
        pytest.param(
            [rule("t", CATEGORY, "0", category="tobacco")],
            line(category="tobacco"),
            0,
            id="category rate 0 beats the programme base rate",
        ),
        pytest.param(
            [rule("b", BASE, "2"), rule("g", CATEGORY, "3", category="grocery")],
            line(),
            30,
            id="category rate beats base rule",
        ),
        pytest.param(
            [rule("g", CATEGORY, "3", category="grocery"), rule("p", PRODUCT, "0.5", sku="SKU-1")],
            line(),
            5,
            id="lower product rate beats category rate",
        ),
        pytest.param(
            [rule("b", BASE, "4"), rule("p", PRODUCT, "0", sku="SKU-1")],
            line(),
            0,
            id="product rate 0 beats base rule",
        ),
        pytest.param(
            [rule("p", PRODUCT, "5", sku="SKU-2"), rule("g", CATEGORY, "3", category="grocery")],
            line(),
            30,
            id="product rate for another sku does not apply",
        ),
        pytest.param(
            [rule("b", BASE, "2"), rule("f", CATEGORY, "9", category="fuel")],
            line(),
            20,
            id="category rate for another category does not apply",
        ),
        pytest.param(
            [
                rule("g1", CATEGORY, "2", category="grocery"),
                rule("g2", CATEGORY, "3", category="grocery"),
            ],
            line(),
            30,
            id="highest of two category rates",
        ),
        pytest.param(
            [rule("b1", BASE, "4"), rule("b2", BASE, "0.5")], line(), 40, id="highest of two base"
        ),
        pytest.param(
            [rule("p1", PRODUCT, "0", sku="SKU-1"), rule("p2", PRODUCT, "1.5", sku="SKU-1")],
            line(),
            15,
            id="highest of two product rates",
        ),
    ],
)
def test_the_most_specific_rate_wins_and_the_highest_among_equals(
    rules: list[EarningRule], sold: SaleLine, points: int
) -> None:
    assert earn(rules, [sold]).points == points


def test_rates_are_chosen_per_line_and_recorded_with_the_winning_rule() -> None:
    beauty = rule("beauty", CATEGORY, "3", category="beauty")
    tobacco = rule("tobacco", CATEGORY, "0", category="tobacco")
    lines = [line(), line(category="beauty"), line(category="tobacco")]

    calculation = earn([beauty, tobacco], lines)

    assert [(part.rate, part.rate_rule) for part in calculation.lines] == [
        (Decimal(1), None),
        (Decimal(3), beauty.ref),
        (Decimal(0), tobacco.ref),
    ]
    assert calculation.points == 40


@pytest.mark.parametrize(
    ("multipliers", "points"),
    [
        pytest.param([], 30, id="no multiplier"),
        pytest.param([rule("m", MULTIPLIER, "2", category="beauty")], 50, id="its category only"),
        pytest.param([rule("m", MULTIPLIER, "3", sku="SKU-2")], 70, id="its sku only"),
        pytest.param([rule("m", MULTIPLIER, "2")], 60, id="naming neither: every line"),
        pytest.param(
            [rule("m2", MULTIPLIER, "2"), rule("m3", MULTIPLIER, "3")], 90, id="highest, not 2x3"
        ),
        pytest.param(
            [rule("m", MULTIPLIER, "2", category="beauty", sku="SKU-1")],
            30,
            id="naming both needs both",
        ),
        pytest.param([rule("m", MULTIPLIER, "5", category="tobacco")], 30, id="x5 of a 0 rate"),
        pytest.param([rule("m", MULTIPLIER, "1.5", category="fuel")], 30, id="no fuel line"),
    ],
)
def test_a_multiplier_applies_to_its_lines_and_the_highest_one_wins(
    multipliers: list[EarningRule], points: int
) -> None:
    rates = [rule("b", BASE, "1"), rule("t", CATEGORY, "0", category="tobacco")]
    lines = [line(), line(category="beauty", sku="SKU-2", quantity=2), line(category="tobacco")]

    assert earn(rates + multipliers, lines).points == points


@pytest.mark.parametrize(
    ("bonuses", "points"),
    [
        pytest.param([bonus(50)], 60, id="adds to the rate points"),
        pytest.param([bonus(50), rule("b2", BONUS, bonus_points=25)], 85, id="several add"),
        pytest.param([bonus(50, category="beauty")], 10, id="its category not in the sale"),
        pytest.param([bonus(50, category="grocery")], 60, id="its category in the sale"),
        pytest.param([bonus(50, sku="SKU-9")], 10, id="its sku not in the sale"),
        pytest.param([bonus(50, sku="SKU-1")], 60, id="its sku in the sale"),
    ],
)
def test_flat_bonuses_add_their_points_when_the_sale_has_their_line(
    bonuses: list[EarningRule], points: int
) -> None:
    assert earn(bonuses).points == points


MIN_SPEND = Decimal("20.00")


@pytest.mark.parametrize(
    ("kind_rule", "reached"),
    [
        pytest.param(rule("r", BASE, "2", min_spend=MIN_SPEND), 40, id="base"),
        pytest.param(
            rule("r", CATEGORY, "2", category="grocery", min_spend=MIN_SPEND), 40, id="cat"
        ),
        pytest.param(rule("r", PRODUCT, "2", sku="SKU-1", min_spend=MIN_SPEND), 40, id="product"),
        pytest.param(rule("r", MULTIPLIER, "2", min_spend=MIN_SPEND), 40, id="multiplier"),
        pytest.param(bonus(100, min_spend=MIN_SPEND), 120, id="bonus"),
    ],
)
@pytest.mark.parametrize(
    ("amounts", "applies"),
    [
        pytest.param(("20.00",), True, id="total equals min spend"),
        pytest.param(("19.99",), False, id="a cent short"),
        pytest.param(("12.00", "8.00"), True, id="lines add to min spend"),
    ],
)
def test_min_spend_compares_the_sale_total_for_every_rule_kind(
    kind_rule: EarningRule, reached: int, amounts: tuple[str, ...], applies: bool
) -> None:
    lines = [line(amount) for amount in amounts]
    total = sum((Decimal(amount) for amount in amounts), Decimal(0))

    assert earn([kind_rule], lines).points == (reached if applies else int(total))


@pytest.mark.parametrize(("paid", "points"), [("19.99", 19), ("20.00", 120)])
def test_min_spend_compares_what_was_paid_not_the_list_price(paid: str, points: int) -> None:
    calculation = earn([bonus(100, min_spend=MIN_SPEND)], [line("25.00")], amounts=[Decimal(paid)])

    assert calculation.points == points


def test_sale_of_earns_on_the_line_amounts_unless_paid_amounts_are_given() -> None:
    lines = [line("10.00", quantity=2), line("5.00")]

    assert Sale.of("S1", NOW, lines).amounts == (Decimal("20.00"), Decimal("5.00"))
    assert Sale.of("S1", NOW, lines).total == Decimal("25.00")
    paid = Sale.of("S1", NOW, lines, [Decimal("15.00"), Decimal("5.00")])
    assert paid.total == Decimal("20.00")
    assert calculate([], paid, Decimal(1)).points == 20


@pytest.mark.parametrize(
    ("store_ids", "store", "points"),
    [
        pytest.param(frozenset(), "S7", 110, id="none named: every store"),
        pytest.param(frozenset({"S1"}), "S1", 110, id="its store"),
        pytest.param(frozenset({"S2", "S3"}), "S3", 110, id="one of its stores"),
        pytest.param(frozenset({"S1"}), "S2", 10, id="another store"),
    ],
)
def test_store_ids_restrict_a_rule_to_its_stores(
    store_ids: frozenset[str], store: str, points: int
) -> None:
    assert earn([bonus(store_ids=store_ids)], store=store).points == points


def on_monday(hour: int, minute: int = 0) -> datetime:
    return MONDAY.replace(hour=hour, minute=minute)


SUMMER_SUNDAY = datetime(2026, 7, 5, tzinfo=UTC)
NINE_TO_FIVE = Schedule(from_time=time(9), until_time=time(17))
LATE_NIGHT = Schedule(from_time=time(22), until_time=time(2))
MONDAY_NIGHT = Schedule(from_time=time(22), until_time=time(2), days_of_week=frozenset({1}))


@pytest.mark.parametrize(
    ("schedule", "at", "applies"),
    [
        pytest.param(Schedule(starts_at=NOW), NOW - timedelta(microseconds=1), False, id="early"),
        pytest.param(Schedule(starts_at=NOW), NOW, True, id="at its start"),
        pytest.param(Schedule(ends_at=NOW), NOW - timedelta(seconds=1), True, id="before its end"),
        pytest.param(Schedule(ends_at=NOW), NOW, False, id="end is exclusive"),
        pytest.param(Schedule(days_of_week=frozenset({1})), MONDAY, True, id="on Monday (1)"),
        pytest.param(Schedule(days_of_week=frozenset({1})), NOW, False, id="Monday only, Wed"),
        pytest.param(Schedule(days_of_week=frozenset({6, 7})), SUMMER_SUNDAY, True, id="Sunday 7"),
        pytest.param(NINE_TO_FIVE, on_monday(8, 59), False, id="before its hours"),
        pytest.param(NINE_TO_FIVE, on_monday(9), True, id="from is inclusive"),
        pytest.param(NINE_TO_FIVE, on_monday(16, 59), True, id="in its hours"),
        pytest.param(NINE_TO_FIVE, on_monday(17), False, id="until is exclusive"),
        pytest.param(Schedule(from_time=time(18)), on_monday(17, 59), False, id="from only, early"),
        pytest.param(Schedule(from_time=time(18)), on_monday(23, 59), True, id="from only, late"),
        pytest.param(Schedule(until_time=time(10)), on_monday(9, 59), True, id="until only"),
        pytest.param(Schedule(until_time=time(10)), on_monday(10), False, id="until only, after"),
        pytest.param(LATE_NIGHT, on_monday(21, 59), False, id="past midnight: before"),
        pytest.param(LATE_NIGHT, on_monday(22), True, id="past midnight: from"),
        pytest.param(LATE_NIGHT, on_monday(23, 30), True, id="past midnight: before 24:00"),
        pytest.param(LATE_NIGHT, on_monday(1, 59), True, id="past midnight: after 00:00"),
        pytest.param(LATE_NIGHT, on_monday(2), False, id="past midnight: until"),
        pytest.param(LATE_NIGHT, on_monday(12), False, id="past midnight: midday"),
        pytest.param(MONDAY_NIGHT, on_monday(23), True, id="Monday night, Monday 23:00"),
        pytest.param(
            MONDAY_NIGHT, on_monday(1) + timedelta(days=1), True, id="Monday night, Tue 01:00"
        ),
        pytest.param(MONDAY_NIGHT, on_monday(1), False, id="Monday night, not Monday 01:00"),
    ],
)
def test_a_rule_applies_only_inside_its_schedule(
    schedule: Schedule, at: datetime, applies: bool
) -> None:
    assert earn([bonus(schedule=schedule)], at=at).points == (110 if applies else 10)


# 23:30 UTC on a summer Sunday is 00:30 on Monday in London (BST, UTC+1).
LATE_SUNDAY_UTC = SUMMER_SUNDAY.replace(hour=23, minute=30)


@pytest.mark.parametrize(
    ("schedule", "at", "applies"),
    [
        pytest.param(Schedule(days_of_week=frozenset({1})), LATE_SUNDAY_UTC, False, id="UTC: Sun"),
        pytest.param(
            Schedule(days_of_week=frozenset({1}), timezone="Europe/London"),
            LATE_SUNDAY_UTC,
            True,
            id="London: already Monday",
        ),
        pytest.param(
            Schedule(until_time=time(0, 45), timezone="Europe/London"),
            LATE_SUNDAY_UTC,
            True,
            id="London: 00:30 before 00:45",
        ),
        pytest.param(
            Schedule(until_time=time(0, 45)), LATE_SUNDAY_UTC, False, id="UTC: 23:30 after 00:45"
        ),
        pytest.param(
            Schedule(from_time=time(9), until_time=time(10), timezone="Europe/London"),
            on_monday(9, 30),
            True,
            id="London in winter is UTC",
        ),
        pytest.param(
            Schedule(days_of_week=frozenset({7}), timezone="America/New_York"),
            datetime(2026, 7, 6, 3, tzinfo=UTC),
            True,
            id="New York: still Sunday",
        ),
    ],
)
def test_days_and_hours_are_read_in_the_rules_time_zone(
    schedule: Schedule, at: datetime, applies: bool
) -> None:
    assert earn([bonus(schedule=schedule)], at=at).points == (110 if applies else 10)


def test_an_inactive_rule_is_ignored() -> None:
    rules = [rule("b", BASE, "5", active=False), bonus(active=False)]

    assert earn(rules).points == 10
    assert earn(rules).rules == ()


BEAUTY = [line(), line("5.00", category="beauty"), line("5.00", category="beauty")]


@pytest.mark.parametrize(
    ("capped", "used_today", "points"),
    [
        pytest.param({"max_points_per_sale": 15}, None, 25, id="per sale, over two lines"),
        pytest.param({"max_points_per_sale": 20}, None, 30, id="per sale, exactly reached"),
        pytest.param({"max_points_per_customer_per_day": 50}, None, 30, id="day, none used"),
        pytest.param({"max_points_per_customer_per_day": 50}, {"c": 40}, 20, id="day, 10 left"),
        pytest.param({"max_points_per_customer_per_day": 50}, {"c": 50}, 10, id="day, used up"),
        pytest.param({"max_points_per_customer_per_day": 50}, {"c": 70}, 10, id="day, never < 0"),
        pytest.param({"max_points_per_customer_per_day": 50}, {"x": 50}, 30, id="other rule used"),
        pytest.param(
            {"max_points_per_sale": 15, "max_points_per_customer_per_day": 50},
            {"c": 38},
            22,
            id="both: what is left of the day is less",
        ),
        pytest.param(
            {"max_points_per_sale": 15, "max_points_per_customer_per_day": 50},
            {"c": 30},
            25,
            id="both: the per-sale cap is less",
        ),
    ],
)
def test_caps_cut_a_rules_contribution_to_the_sale(
    capped: dict[str, int], used_today: dict[str, int] | None, points: int
) -> None:
    beauty = rule("c", CATEGORY, "2", category="beauty", **capped)
    used = None if used_today is None else {k: Decimal(v) for k, v in used_today.items()}

    assert earn([beauty], BEAUTY, used_today=used).points == points


def test_a_multiplier_cap_cuts_only_the_points_the_multiplier_added() -> None:
    triple = rule("m", MULTIPLIER, "3", max_points_per_sale=5)

    calculation = earn([triple])

    assert calculation.points == 15
    assert calculation.caps == (Contribution(ContributionKind.CAP, triple.ref, Decimal(-15)),)


def test_a_bonus_cap_cuts_the_bonus() -> None:
    assert earn([bonus(100, max_points_per_sale=40)]).points == 50


@pytest.mark.parametrize(
    ("prices", "points"),
    [
        pytest.param(["0.40"] * 3, 1, id="three 0.40 lines earn 1"),
        pytest.param(["0.99"], 0, id="0.99 earns nothing"),
        pytest.param(["0.50", "0.50"], 1, id="two halves make one"),
        pytest.param(["19.99"], 19, id="down, never up"),
    ],
)
def test_the_exact_sum_is_rounded_down_once(prices: list[str], points: int) -> None:
    calculation = earn([], [line(price) for price in prices])

    assert calculation.exact == sum((Decimal(price) for price in prices), Decimal(0))
    assert calculation.points == points


def test_contributions_add_up_to_the_exact_points_and_name_each_rule_once() -> None:
    rate = rule("beauty", CATEGORY, "1.5", category="beauty", max_points_per_sale=12)
    double = rule("double", MULTIPLIER, "2", category="beauty")
    extra = bonus(3)

    calculation = earn([rate, double, extra], [line("4.00"), *BEAUTY[1:]], base_rate="0.25")

    assert calculation.contributions == (
        Contribution(ContributionKind.RATE, None, Decimal("1.00"), 1),
        Contribution(ContributionKind.RATE, rate.ref, Decimal("7.5"), 2),
        Contribution(ContributionKind.MULTIPLIER, double.ref, Decimal("7.5"), 2),
        Contribution(ContributionKind.RATE, rate.ref, Decimal("7.5"), 3),
        Contribution(ContributionKind.MULTIPLIER, double.ref, Decimal("7.5"), 3),
        Contribution(ContributionKind.BONUS, extra.ref, Decimal(3)),
        Contribution(ContributionKind.CAP, rate.ref, Decimal(-3)),
    )
    assert sum(part.points for part in calculation.contributions) == calculation.exact
    assert calculation.exact == Decimal("31.00")
    assert calculation.points == 31
    assert calculation.rules == (rate.ref, double.ref, extra.ref)


@pytest.mark.parametrize(
    ("timezone", "at", "start", "end"),
    [
        pytest.param(
            "UTC",
            datetime(2026, 11, 23, 15, tzinfo=UTC),
            datetime(2026, 11, 23, tzinfo=UTC),
            datetime(2026, 11, 24, tzinfo=UTC),
            id="UTC",
        ),
        pytest.param(
            "Europe/London",
            LATE_SUNDAY_UTC,
            datetime(2026, 7, 5, 23, tzinfo=UTC),
            datetime(2026, 7, 6, 23, tzinfo=UTC),
            id="London summer: the next local day",
        ),
        pytest.param(
            "Europe/London",
            datetime(2026, 3, 29, 12, tzinfo=UTC),
            datetime(2026, 3, 29, tzinfo=UTC),
            datetime(2026, 3, 29, 23, tzinfo=UTC),
            id="London clocks go forward: 23 hours",
        ),
    ],
)
def test_day_of_is_the_local_calendar_day_as_instants(
    timezone: str, at: datetime, start: datetime, end: datetime
) -> None:
    assert Schedule(timezone=timezone).day_of(at) == (start, end)
