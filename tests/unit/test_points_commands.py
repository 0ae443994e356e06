"""The points feature's commands: what counts as the same request under an idempotency key,
and what is refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.errors import InvalidInput
from domain.idempotency import idempotency_key
from domain.ledger import Actor
from domain.points import AdjustPoints, Checkout, EarnPoints, RedeemPoints, RefundSale
from domain.rewards import Reward, RewardsOutlook, rewards_outlook
from domain.sales import SaleLine

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
    return RedeemPoints(
        customer_id="c-1",
        idempotency_key="redeem-1",
        store_id="S1",
        points=points,
        reward_id=reward_id,
        occurred_at=AT,
    )


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
    earn = replace(EARN, idempotency_key="k", terminal_id=None, sale_id=None, lines=())
    spend = replace(redeem(10), idempotency_key="k")

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


SOLD = (SaleLine("BEANS", "grocery", 2, Decimal("4.50")), SaleLine("MUG", "home", 1, Decimal("12")))
ACTOR = Actor("s1", "cashier", "T1")
STORED_FINGERPRINTS = [
    pytest.param(
        EarnPoints(
            customer_id="c1",
            idempotency_key="k1",
            store_id="S1",
            terminal_id="T1",
            sale_id="R-1",
            lines=SOLD,
            occurred_at=AT,
            actor=ACTOR,
        ),
        "b10de54bc6f1b7454167394895ea94f6959289800084233cef2b4f6221aaea73",
        id="earn",
    ),
    pytest.param(
        RedeemPoints(
            customer_id="c1",
            idempotency_key="k2",
            store_id="S1",
            points=30,
            reward_id=None,
            occurred_at=AT,
            actor=ACTOR,
        ),
        "34ca7cc2ef8d59708f3c92e81a6f8420df0aaf74ac01138f2b6ce480a271663b",
        id="redeem points",
    ),
    pytest.param(
        AdjustPoints(
            customer_id="c1",
            idempotency_key="k3",
            store_id="S1",
            points=-5,
            reason="goodwill",
            occurred_at=AT,
            actor=ACTOR,
        ),
        "84ee040c4e5502f5b7cb35f522b195f2792e951b1fbfec427e45ac863703d579",
        id="adjust",
    ),
    pytest.param(
        Checkout(
            customer_id="c1",
            idempotency_key="k4",
            store_id="S1",
            terminal_id="T1",
            sale_id="R-3",
            lines=SOLD,
            reward_id="COFFEE",
            occurred_at=AT,
            actor=ACTOR,
        ),
        "8985fdb5fd2bb00fa3fadd2c3e2afd9758239588acb9ab1d0ce9d5145b278e28",
        id="checkout",
    ),
    pytest.param(
        RefundSale(
            transaction_id=42,
            idempotency_key="k5",
            store_id="S1",
            terminal_id=None,
            quantities=((1, 1),),
            reason="broken",
            occurred_at=AT,
            actor=ACTOR,
        ),
        "cd2d8f4de36b73609bb59a565a6e7078af41494ff3bc8dfb722ad63d4301e07d",
        id="refund",
    ),
]


@pytest.mark.parametrize(("command", "stored"), STORED_FINGERPRINTS)
def test_a_fingerprint_is_the_one_earlier_releases_stored_for_the_same_request(
    command: EarnPoints | RedeemPoints | AdjustPoints | Checkout | RefundSale, stored: str
) -> None:
    """A retry that spans a deploy must still be recognised as the same request."""
    assert command.fingerprint() == stored


@pytest.mark.parametrize(
    ("command", "stored"),
    [
        (EARN, "520c91381eb15d1fbcad7984af17335c6f693c5b32f02e94a541946ce5d70d11"),
        (redeem(), "fe53fc8e80388152a6fceafedd59bf75e5fd16d76b10f878900691c3fe3177f5"),
        (redeem(None, "R1"), "15dfc021eb67bae02dbc742e2ac7cb09133033f07f768fc7e5b371c5adf89964"),
    ],
    ids=["earn", "redeem points", "redeem a reward"],
)
def test_fingerprints_stay_those_earlier_releases_stored(
    command: EarnPoints | RedeemPoints, stored: str
) -> None:
    """A retry sent across an upgrade is still the same request (computed before the
    fingerprint stopped deep-copying the command)."""
    assert command.fingerprint() == stored
