"""What an administrator may save: earning rules and rewards are refused with the field
at fault, and passed through unchanged when complete and consistent."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import InvalidInput
from domain.programme import check_reward, check_rule
from domain.rewards import Reward, RewardKind
from domain.rules import EarningRule, RuleKind, Schedule

START = datetime(2026, 11, 23, 9, tzinfo=UTC)
BASE = EarningRule("base", 1, "Base rate", RuleKind.BASE_RATE, Decimal(1))
CATEGORY = EarningRule("beauty", 1, "Beauty", RuleKind.CATEGORY_RATE, Decimal(3), category="beauty")
PRODUCT = EarningRule("sku", 1, "Shampoo", RuleKind.PRODUCT_RATE, Decimal(5), sku="SKU-1")
MULTIPLIER = EarningRule("double", 1, "Double", RuleKind.MULTIPLIER, Decimal(2))
BONUS = EarningRule("bonus", 1, "Welcome", RuleKind.FLAT_BONUS, bonus_points=50)


def scheduled(**fields: Any) -> EarningRule:
    return replace(BASE, schedule=Schedule(**fields))


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        pytest.param(replace(BASE, rate=None), "rate", id="base rate without a rate"),
        pytest.param(replace(CATEGORY, rate=None), "rate", id="category rate without a rate"),
        pytest.param(replace(PRODUCT, rate=None), "rate", id="product rate without a rate"),
        pytest.param(replace(MULTIPLIER, rate=None), "rate", id="multiplier without a rate"),
        pytest.param(replace(BASE, rate=Decimal(1001)), "rate", id="rate above 1000"),
        pytest.param(replace(BASE, bonus_points=5), "bonusPoints", id="rate rule with bonus"),
        pytest.param(replace(BONUS, rate=Decimal(1)), "rate", id="flat bonus with a rate"),
        pytest.param(replace(BONUS, bonus_points=None), "bonusPoints", id="bonus without points"),
        pytest.param(replace(BONUS, bonus_points=0), "bonusPoints", id="bonus of 0 points"),
        pytest.param(replace(CATEGORY, category=None), "category", id="category rate, none"),
        pytest.param(replace(CATEGORY, category=""), "category", id="category rate, blank"),
        pytest.param(replace(CATEGORY, sku="SKU-1"), "category", id="category rate with a sku"),
        pytest.param(replace(PRODUCT, sku=None), "sku", id="product rate without a sku"),
        pytest.param(replace(BASE, category="beauty"), "kind", id="base rate with a category"),
        pytest.param(replace(BASE, sku="SKU-1"), "kind", id="base rate with a sku"),
        pytest.param(replace(MULTIPLIER, rate=Decimal(1)), "rate", id="multiplier of 1"),
        pytest.param(replace(MULTIPLIER, rate=Decimal("0.5")), "rate", id="multiplier below 1"),
        pytest.param(replace(MULTIPLIER, rate=Decimal(101)), "rate", id="multiplier above 100"),
        pytest.param(
            scheduled(starts_at=START, ends_at=START - timedelta(hours=1)),
            "endsAt",
            id="end before start",
        ),
        pytest.param(scheduled(starts_at=START, ends_at=START), "endsAt", id="end equals start"),
        pytest.param(scheduled(days_of_week=frozenset({0})), "daysOfWeek", id="day 0"),
        pytest.param(scheduled(days_of_week=frozenset({1, 8})), "daysOfWeek", id="day 8"),
        pytest.param(
            scheduled(from_time=time(9), until_time=time(9)), "untilTime", id="from equals until"
        ),
        pytest.param(scheduled(timezone="Mars/Olympus"), "timezone", id="unknown time zone"),
        pytest.param(scheduled(timezone=""), "timezone", id="blank time zone"),
        pytest.param(scheduled(timezone="../etc/passwd"), "timezone", id="path as time zone"),
        pytest.param(replace(BASE, min_spend=Decimal("-0.01")), "minSpend", id="negative spend"),
        pytest.param(replace(BASE, max_points_per_sale=0), "maxPointsPerSale", id="sale cap 0"),
        pytest.param(
            replace(BASE, max_points_per_customer_per_day=0),
            "maxPointsPerCustomerPerDay",
            id="daily cap 0",
        ),
        pytest.param(
            replace(BASE, max_points_per_customer_per_day=-5),
            "maxPointsPerCustomerPerDay",
            id="negative daily cap",
        ),
        pytest.param(
            replace(BASE, store_ids=frozenset(f"S{n}" for n in range(501))),
            "storeIds",
            id="more than 500 stores",
        ),
    ],
)
def test_check_rule_refuses_an_incomplete_or_inconsistent_rule_naming_the_field(
    rule: EarningRule, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_rule(rule)

    assert refused.value.field == ("input", field)


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param(BASE, id="base rate"),
        pytest.param(replace(CATEGORY, category="tobacco", rate=Decimal(0)), id="zero rate"),
        pytest.param(PRODUCT, id="product rate"),
        pytest.param(replace(PRODUCT, category="beauty"), id="product rate in a category"),
        pytest.param(replace(MULTIPLIER, rate=Decimal("1.01"), sku="SKU-1"), id="just above 1"),
        pytest.param(replace(MULTIPLIER, rate=Decimal(100)), id="multiplier of 100"),
        pytest.param(replace(BASE, rate=Decimal(1000)), id="rate of 1000"),
        pytest.param(BONUS, id="flat bonus"),
        pytest.param(replace(BONUS, category="beauty"), id="bonus for a category"),
        pytest.param(
            scheduled(
                starts_at=START,
                ends_at=START + timedelta(seconds=1),
                days_of_week=frozenset({1, 7}),
                from_time=time(22),
                until_time=time(2),
                timezone="Europe/London",
            ),
            id="full schedule past midnight",
        ),
        pytest.param(scheduled(until_time=time(10)), id="until only"),
        pytest.param(replace(BASE, min_spend=Decimal(0)), id="min spend 0"),
        pytest.param(
            replace(BASE, max_points_per_sale=1, max_points_per_customer_per_day=1), id="caps of 1"
        ),
        pytest.param(replace(BASE, store_ids=frozenset(f"S{n}" for n in range(500))), id="500"),
    ],
)
def test_check_rule_passes_a_valid_rule_through_unchanged(rule: EarningRule) -> None:
    assert check_rule(rule) is rule


VOUCHER = Reward("R1", "Coffee voucher", 100)
FIXED = replace(VOUCHER, kind=RewardKind.FIXED_DISCOUNT, discount_amount=Decimal("5.00"))
PERCENT = replace(VOUCHER, kind=RewardKind.PERCENT_DISCOUNT, discount_percent=Decimal(10))
FREE_ITEM = replace(VOUCHER, kind=RewardKind.FREE_ITEM, sku="SKU-1")


@pytest.mark.parametrize(
    ("reward", "field"),
    [
        pytest.param(replace(VOUCHER, points_cost=0), "pointsCost", id="costs nothing"),
        pytest.param(replace(VOUCHER, points_cost=-10), "pointsCost", id="negative cost"),
        pytest.param(
            replace(VOUCHER, starts_at=START, ends_at=START - timedelta(days=1)),
            "endsAt",
            id="end before start",
        ),
        pytest.param(replace(VOUCHER, starts_at=START, ends_at=START), "endsAt", id="end = start"),
        pytest.param(replace(VOUCHER, stock=-1), "stock", id="negative stock"),
        pytest.param(replace(FIXED, discount_amount=None), "discountAmount", id="fixed, none"),
        pytest.param(replace(FIXED, discount_amount=Decimal(0)), "discountAmount", id="fixed 0"),
        pytest.param(
            replace(PERCENT, discount_percent=None), "discountPercent", id="percent, none"
        ),
        pytest.param(replace(PERCENT, discount_percent=Decimal(0)), "discountPercent", id="0%"),
        pytest.param(
            replace(PERCENT, discount_percent=Decimal("100.01")), "discountPercent", id="over 100%"
        ),
        pytest.param(replace(FREE_ITEM, sku=None), "sku", id="free item without a sku"),
        pytest.param(replace(FREE_ITEM, sku=""), "sku", id="free item with a blank sku"),
    ],
)
def test_check_reward_refuses_an_incomplete_reward_naming_the_field(
    reward: Reward, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_reward(reward)

    assert refused.value.field == ("input", field)


@pytest.mark.parametrize(
    "reward",
    [
        pytest.param(VOUCHER, id="voucher"),
        pytest.param(FIXED, id="fixed discount"),
        pytest.param(PERCENT, id="percent discount"),
        pytest.param(replace(PERCENT, discount_percent=Decimal(100)), id="100%"),
        pytest.param(FREE_ITEM, id="free item"),
        pytest.param(replace(VOUCHER, stock=0), id="out of stock"),
        pytest.param(
            replace(VOUCHER, points_cost=1, starts_at=START, ends_at=START + timedelta(1)),
            id="cost 1, a day long",
        ),
    ],
)
def test_check_reward_passes_a_valid_reward_through_unchanged(reward: Reward) -> None:
    assert check_reward(reward) is reward
