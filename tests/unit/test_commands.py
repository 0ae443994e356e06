"""Commands: what counts as the same request under an idempotency key, and what is refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.commands import EarnPoints, RedeemPoints, idempotency_key
from domain.errors import InvalidInput
from domain.points import SaleLine
from domain.rewards import Reward, RewardsOutlook, rewards_outlook

AT = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
LINE = SaleLine("SKU-1", "grocery", 2, Decimal("12.5"))
EARN = EarnPoints(
    customer_id="c-1",
    idempotency_key="sale-1",
    store_id="S1",
    terminal_id="T1",
    sale_id="R-1",
    lines=(LINE, SaleLine("SKU-2", "beauty", 1, Decimal("3"))),
    occurred_at=AT,
)


def redeem(points: int | None = 10, reward_id: str | None = None) -> RedeemPoints:
    return RedeemPoints("c-1", "redeem-1", "S1", None, None, points, reward_id, AT)


@pytest.mark.parametrize(
    "same",
    [
        pytest.param(
            replace(EARN, lines=(replace(LINE, unit_price=Decimal("12.50")), EARN.lines[1])),
            id="12.5 and 12.50",
        ),
        pytest.param(
            replace(EARN, lines=(LINE, replace(EARN.lines[1], unit_price=Decimal("3.0000")))),
            id="3 and 3.0000",
        ),
        pytest.param(replace(EARN, occurred_at=AT + timedelta(minutes=5)), id="a later retry"),
    ],
)
def test_earn_fingerprint_is_the_same_for_the_same_sale(same: EarnPoints) -> None:
    assert same.fingerprint() == EARN.fingerprint()


@pytest.mark.parametrize(
    "different",
    [
        pytest.param(replace(EARN, customer_id="c-2"), id="customer"),
        pytest.param(replace(EARN, store_id="S2"), id="store"),
        pytest.param(replace(EARN, idempotency_key="sale-2"), id="key"),
        pytest.param(replace(EARN, terminal_id="T2"), id="terminal"),
        pytest.param(replace(EARN, sale_id="R-2"), id="sale reference"),
        pytest.param(replace(EARN, lines=EARN.lines[:1]), id="a line fewer"),
        pytest.param(replace(EARN, lines=(*EARN.lines, LINE)), id="a line more"),
        pytest.param(
            replace(EARN, lines=(replace(LINE, quantity=3), EARN.lines[1])), id="quantity"
        ),
        pytest.param(
            replace(EARN, lines=(replace(LINE, unit_price=Decimal("12.51")), EARN.lines[1])),
            id="price",
        ),
        pytest.param(
            replace(EARN, lines=(replace(LINE, unit_price=Decimal("125")), EARN.lines[1])),
            id="price by a factor of ten",
        ),
        pytest.param(replace(EARN, lines=(replace(LINE, sku="SKU-9"), EARN.lines[1])), id="sku"),
        pytest.param(
            replace(EARN, lines=(replace(LINE, category="toys"), EARN.lines[1])), id="category"
        ),
    ],
)
def test_earn_fingerprint_differs_when_the_request_differs(different: EarnPoints) -> None:
    assert different.fingerprint() != EARN.fingerprint()


def test_redeem_fingerprint_tells_points_from_a_reward() -> None:
    assert redeem(points=10).fingerprint() == redeem(points=10).fingerprint()
    assert redeem(points=10).fingerprint() != redeem(points=11).fingerprint()
    assert redeem(None, "coffee").fingerprint() != redeem(None, "tea").fingerprint()


def test_earn_and_redeem_fingerprints_never_collide() -> None:
    earn = EarnPoints("c-1", "k", "S1", None, None, (), AT)
    spend = RedeemPoints("c-1", "k", "S1", None, None, 10, None, AT)

    assert earn.fingerprint() != spend.fingerprint()


@pytest.mark.parametrize(
    ("points", "reward_id"),
    [pytest.param(10, "coffee", id="both"), pytest.param(None, None, id="neither")],
)
def test_redeem_needs_exactly_one_of_points_and_reward(
    points: int | None, reward_id: str | None
) -> None:
    with pytest.raises(InvalidInput) as refused:
        redeem(points, reward_id)

    assert refused.value.field == ("input",)


@pytest.mark.parametrize("points", [0, -1, -500])
def test_redeem_refuses_zero_or_negative_points(points: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        redeem(points)

    assert refused.value.field == ("input", "points")


@pytest.mark.parametrize(("points", "reward_id"), [(1, None), (None, "coffee")])
def test_redeem_accepts_points_or_a_reward(points: int | None, reward_id: str | None) -> None:
    command = redeem(points, reward_id)

    assert (command.points, command.reward_id) == (points, reward_id)


@pytest.mark.parametrize(
    ("raw", "key"), [("sale-1", "sale-1"), ("  sale-1 \n", "sale-1"), ("k" * 200, "k" * 200)]
)
def test_idempotency_key_is_trimmed_and_kept(raw: str, key: str) -> None:
    assert idempotency_key(raw) == key


@pytest.mark.parametrize("raw", ["", "   ", "\t\n", "k" * 201])
def test_idempotency_key_refuses_blank_or_over_200_characters(raw: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        idempotency_key(raw)

    assert refused.value.field == ("input", "idempotencyKey")


COFFEE = Reward("coffee", "Coffee", 100, active=True)
CAKE = Reward("cake", "Cake", 250, active=True)
TEA = Reward("tea", "Tea", 100, active=True)
LUNCH = Reward("lunch", "Lunch", 900, active=True)
CATALOG = [LUNCH, CAKE, TEA, COFFEE]


@pytest.mark.parametrize(
    ("balance", "outlook"),
    [
        pytest.param(0, RewardsOutlook((), COFFEE, 100), id="nothing yet"),
        pytest.param(99, RewardsOutlook((), COFFEE, 1), id="one point short"),
        pytest.param(100, RewardsOutlook((COFFEE, TEA), CAKE, 150), id="exactly enough"),
        pytest.param(300, RewardsOutlook((COFFEE, TEA, CAKE), LUNCH, 600), id="cheapest first"),
        pytest.param(900, RewardsOutlook((COFFEE, TEA, CAKE, LUNCH), None, None), id="all"),
        pytest.param(5000, RewardsOutlook((COFFEE, TEA, CAKE, LUNCH), None, None), id="more"),
    ],
)
def test_rewards_outlook_shows_what_is_in_reach_and_what_is_next(
    balance: int, outlook: RewardsOutlook
) -> None:
    assert rewards_outlook(balance, CATALOG) == outlook


def test_rewards_outlook_of_an_empty_catalog_has_nothing_in_reach_and_nothing_next() -> None:
    assert rewards_outlook(500, []) == RewardsOutlook((), None, None)
