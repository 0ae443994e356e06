"""Spending points: when a reward can be redeemed, the money it takes off a sale, and how a
discount is spread over the sale's lines."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidInput, RewardInactive
from domain.rewards import (
    Redemption,
    RedemptionKind,
    Reward,
    RewardKind,
    points_off,
    redemption_against_sale,
)
from domain.sales import SaleLine, allocate_discount

REWARD_ID = ("input", "rewardId")
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
START, END = NOW - timedelta(days=1), NOW + timedelta(days=1)
WINDOW = Reward("R1", "Coffee", 100, starts_at=START, ends_at=END)
CODE = "VOUCHER-1"


def line(price: str, sku: str = "SKU-1", quantity: int = 1) -> SaleLine:
    return SaleLine(sku, "grocery", quantity, Decimal(price))


@pytest.mark.parametrize(
    ("reward", "at", "store", "why"),
    [
        pytest.param(replace(WINDOW, active=False), NOW, "S1", "is not active", id="inactive"),
        pytest.param(
            WINDOW,
            START - timedelta(seconds=1),
            "S1",
            "is outside its active window",
            id="before its start",
        ),
        pytest.param(WINDOW, END, "S1", "is outside its active window", id="at its end"),
        pytest.param(
            WINDOW, NOW + timedelta(days=30), "S1", "is outside its active window", id="after end"
        ),
        pytest.param(replace(WINDOW, stock=0), NOW, "S1", "is out of stock", id="out of stock"),
        pytest.param(
            replace(WINDOW, store_ids=frozenset({"S1"})),
            NOW,
            "S2",
            "is not offered in store S2",
            id="another store",
        ),
    ],
)
def test_points_to_redeem_refuses_an_unavailable_reward_saying_why(
    reward: Reward, at: datetime, store: str, why: str
) -> None:
    with pytest.raises(RewardInactive) as refused:
        reward.points_to_redeem(at, store)

    assert refused.value.message == f"reward R1 {why}"
    assert refused.value.field == REWARD_ID
    assert not reward.available_at(at, store)


@pytest.mark.parametrize(
    ("reward", "at", "store"),
    [
        pytest.param(Reward("R1", "Coffee", 100), NOW, "S9", id="no window, every store"),
        pytest.param(WINDOW, START, "S1", id="at its start"),
        pytest.param(WINDOW, END - timedelta(seconds=1), "S1", id="just before end"),
        pytest.param(replace(WINDOW, stock=1), NOW, "S1", id="last one in stock"),
        pytest.param(replace(WINDOW, store_ids=frozenset({"S1", "S2"})), NOW, "S2", id="its store"),
    ],
)
def test_points_to_redeem_is_the_cost_of_an_available_reward(
    reward: Reward, at: datetime, store: str
) -> None:
    assert reward.available_at(at, store)
    assert reward.points_to_redeem(at, store) == 100


def test_available_at_without_a_store_ignores_the_rewards_stores() -> None:
    assert replace(WINDOW, store_ids=frozenset({"S1"})).available_at(NOW)


FIXED = replace(WINDOW, kind=RewardKind.FIXED_DISCOUNT, discount_amount=Decimal("5.00"))
PERCENT = replace(WINDOW, kind=RewardKind.PERCENT_DISCOUNT, discount_percent=Decimal(15))
FREE = replace(WINDOW, kind=RewardKind.FREE_ITEM, sku="SKU-2")


@pytest.mark.parametrize(
    ("reward", "lines", "off"),
    [
        pytest.param(FIXED, [line("20.00")], "5.00", id="fixed"),
        pytest.param(FIXED, [line("3.00"), line("1.50")], "4.50", id="fixed capped at total"),
        pytest.param(PERCENT, [line("33.33")], "4.99", id="15% of 33.33 = 4.9995, down"),
        pytest.param(PERCENT, [line("10.00"), line("10.00")], "3.00", id="percent of the total"),
        pytest.param(
            replace(PERCENT, discount_percent=Decimal(100)), [line("12.34")], "12.34", id="100%"
        ),
        pytest.param(FREE, [line("9.00"), line("2.50", "SKU-2", 3)], "2.50", id="one unit free"),
        pytest.param(
            FREE, [line("2.50", "SKU-2"), line("2.75", "SKU-2")], "2.75", id="dearest unit"
        ),
    ],
)
def test_redemption_against_sale_takes_the_rewards_money_off_the_sale(
    reward: Reward, lines: list[SaleLine], off: str
) -> None:
    redemption = redemption_against_sale(reward, lines, CODE)

    assert redemption == Redemption(
        RedemptionKind(reward.kind.value),
        reward.id,
        Decimal(off),
        reward.discount_percent,
        reward.sku,
        None,
    )


def test_redemption_against_sale_refuses_a_free_item_the_sale_does_not_hold() -> None:
    with pytest.raises(InvalidInput) as refused:
        redemption_against_sale(FREE, [line("9.00", "SKU-1")], CODE)

    assert refused.value.field == REWARD_ID


@pytest.mark.parametrize(
    "voucher",
    [
        pytest.param(WINDOW, id="plain voucher"),
        pytest.param(replace(WINDOW, discount_amount=Decimal("5.00")), id="stray discountAmount"),
    ],
)
def test_a_voucher_keeps_its_code_and_takes_no_money_off(voucher: Reward) -> None:
    redemption = redemption_against_sale(voucher, [line("20.00")], CODE)

    assert redemption.kind is RedemptionKind.VOUCHER
    assert redemption.voucher_code == CODE
    assert redemption.reward_id == "R1"
    assert not redemption.discount_amount


def test_points_off_is_worth_the_points_at_the_point_value() -> None:
    assert points_off(250, Decimal("0.01")) == Redemption(
        RedemptionKind.POINTS_OFF, discount_amount=Decimal("2.50")
    )


def amounts(*prices: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(price) for price in prices)


@pytest.mark.parametrize(
    ("prices", "discount", "paid"),
    [
        pytest.param(["10.00", "30.00"], "4.00", amounts("9.00", "27.00"), id="proportional"),
        pytest.param(
            ["1.00", "1.00", "1.00"], "1.00", amounts("0.6666", "0.6667", "0.6667"), id="thirds"
        ),
        pytest.param(["1.00", "2.00"], "0.01", amounts("0.9967", "1.9933"), id="rest on largest"),
        pytest.param(["5.00", "7.00"], "0", amounts("5.00", "7.00"), id="no discount"),
        pytest.param(["5.00", "7.00"], "-1.00", amounts("5.00", "7.00"), id="negative discount"),
        pytest.param(["5.00", "7.00"], "12.00", amounts("0", "0"), id="discount equals total"),
        pytest.param(["5.00", "7.00"], "50.00", amounts("0", "0"), id="discount over total"),
        pytest.param(["0.00", "0.00"], "1.00", amounts("0", "0"), id="nothing to discount"),
    ],
)
def test_allocate_discount_spreads_the_discount_over_the_lines(
    prices: list[str], discount: str, paid: tuple[Decimal, ...]
) -> None:
    assert allocate_discount([line(price) for price in prices], Decimal(discount)) == paid


def test_allocate_discount_leaves_no_line_negative_when_nearly_all_comes_off() -> None:
    paid = allocate_discount([line("1.00")] * 3, Decimal("2.9999"))

    assert sum(paid) == Decimal("0.0001")
    assert all(amount >= 0 for amount in paid), paid


@given(
    prices=st.lists(st.decimals(0, 10_000, places=2), min_size=1, max_size=8),
    discount=st.decimals(0, 20_000, places=4),
)
def test_allocate_discount_keeps_the_total_paid_exact(
    prices: list[Decimal], discount: Decimal
) -> None:
    lines = [SaleLine("SKU-1", "grocery", 1, price) for price in prices]
    total = sum(prices, Decimal(0))

    paid = allocate_discount(lines, discount)

    assert len(paid) == len(lines)
    assert sum(paid, Decimal(0)) == total - min(discount, total)
    assert all(amount <= price for amount, price in zip(paid, prices, strict=True))
