"""The rewards catalog as an administrator keeps it, and what redeeming a reward gives the till."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.auth import Role
from api.settings import Settings
from tests.conftest import GraphQLClient, mint
from tests.operations import LOOKUP, USER_ERRORS, create_store, earn, enroll, line

REWARD = (
    "id name pointsCost active enabled kind discountAmount discountPercent sku startsAt endsAt "
    "storeIds stock"
)
CREATE_REWARD = f"""
mutation($input: RewardInput!) {{
  createReward(input: $input) {{ reward {{ {REWARD} }} {USER_ERRORS} }}
}}"""
UPDATE_REWARD = f"""
mutation($input: RewardInput!) {{
  updateReward(input: $input) {{ reward {{ {REWARD} }} {USER_ERRORS} }}
}}"""
CATALOG = """
query($activeOnly: Boolean, $storeId: ID) {
  rewards(activeOnly: $activeOnly, storeId: $storeId) { id active enabled stock }
}"""
REDEEM = f"""
mutation($input: RedeemPointsInput!) {{
  redeemPoints(input: $input) {{
    transaction {{ id kind points balanceAfter }}
    redemption {{ kind rewardId discountAmount discountPercent sku voucherCode }}
    customer {{ balance balanceVersion }}
    {USER_ERRORS}
  }}
}}"""
NOTHING_ELSE = {"discountAmount": None, "discountPercent": None, "sku": None}


def moment(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def save_reward(gql: GraphQLClient, *, update: bool = False, **input_: Any) -> dict[str, Any]:
    document, name = (UPDATE_REWARD, "updateReward") if update else (CREATE_REWARD, "createReward")
    payload = (await gql.data(document, {"input": input_}))[name]
    assert payload["userErrors"] == [], payload
    reward: dict[str, Any] = payload["reward"]
    return reward


async def voucher(
    gql: GraphQLClient, reward_id: str, *, update: bool = False, **extra: Any
) -> dict[str, Any]:
    """A voucher reward costing 40 points unless `extra` says otherwise."""
    input_ = {"id": reward_id, "name": f"{reward_id} reward", "pointsCost": 40, "kind": "VOUCHER"}
    return await save_reward(gql, update=update, **(input_ | extra))


async def catalog(gql: GraphQLClient, **arguments: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await gql.data(CATALOG, arguments))["rewards"]
    return found


async def customer_with_100_points(gql: GraphQLClient) -> str:
    await create_store(gql, "S1")
    await create_store(gql, "S2", "Harbour")
    customer_id = str((await enroll(gql, email="ada@example.com"))["id"])
    assert (await earn(gql, customer_id, "top-up", [line("100.00")]))["userErrors"] == []
    return customer_id


async def redeem(gql: GraphQLClient, customer_id: str, key: str, **spend: Any) -> dict[str, Any]:
    input_ = {"customerId": customer_id, "idempotencyKey": key, "storeId": "S1", **spend}
    payload: dict[str, Any] = (await gql.data(REDEEM, {"input": input_}))["redeemPoints"]
    return payload


async def balance(gql: GraphQLClient, customer_id: str) -> tuple[int, int]:
    found = (await gql.data(LOOKUP, {"lookup": {"id": customer_id}}))["customer"]
    return found["balance"], found["balanceVersion"]


def refusals(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(error["code"], error["field"]) for error in payload["userErrors"]]


KINDS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        {"kind": "FIXED_DISCOUNT", "discountAmount": "5"},
        {**NOTHING_ELSE, "kind": "FIXED_DISCOUNT", "discountAmount": "5.00"},
    ),
    (
        {"kind": "PERCENT_DISCOUNT", "discountPercent": "12.5"},
        {**NOTHING_ELSE, "kind": "PERCENT_DISCOUNT", "discountPercent": "12.50"},
    ),
    (
        {"kind": "FREE_ITEM", "sku": "COFFEE"},
        {**NOTHING_ELSE, "kind": "FREE_ITEM", "sku": "COFFEE"},
    ),
    ({"kind": "VOUCHER"}, {**NOTHING_ELSE, "kind": "VOUCHER"}),
]
KIND_IDS = [kind["kind"] for kind, _ in KINDS]


@pytest.mark.parametrize(("input_", "applies"), KINDS, ids=KIND_IDS)
async def test_an_admin_adds_a_reward_of_each_kind_to_the_catalog(
    gql: GraphQLClient, input_: dict[str, Any], applies: dict[str, Any]
) -> None:
    reward = await save_reward(gql, id="R1", name="Treat", pointsCost=40, **input_)

    assert reward == {
        "id": "R1", "name": "Treat", "pointsCost": 40, "active": True, "enabled": True,
        "startsAt": None, "endsAt": None, "storeIds": [], "stock": None, **applies,
    }  # fmt: skip
    assert await catalog(gql) == [{"id": "R1", "active": True, "enabled": True, "stock": None}]


@pytest.mark.parametrize(("input_", "applies"), KINDS, ids=KIND_IDS)
async def test_redeeming_a_reward_takes_its_cost_and_tells_the_till_what_to_apply(
    gql: GraphQLClient, input_: dict[str, Any], applies: dict[str, Any]
) -> None:
    customer_id = await customer_with_100_points(gql)
    await save_reward(gql, id="R1", name="Treat", pointsCost=40, **input_)

    spent = await redeem(gql, customer_id, "treat", rewardId="R1")

    assert spent["userErrors"] == []
    assert (spent["transaction"]["kind"], spent["transaction"]["points"]) == ("REDEEM", -40)
    assert spent["customer"]["balance"] == 60
    redemption = spent["redemption"]
    code = redemption.pop("voucherCode")
    assert redemption == {**applies, "rewardId": "R1"}
    if input_["kind"] == "VOUCHER":
        assert re.fullmatch(r"[0-9A-F]{12}", code)
    else:
        assert code is None


async def test_redeeming_points_gives_money_off_at_the_point_value(gql: GraphQLClient) -> None:
    customer_id = await customer_with_100_points(gql)

    spent = await redeem(gql, customer_id, "points-off", points=75)

    assert spent["userErrors"] == []
    assert spent["transaction"]["points"] == -75
    assert spent["customer"]["balance"] == 25
    assert spent["redemption"] == {
        **NOTHING_ELSE,
        "voucherCode": None,
        "kind": "POINTS_OFF",
        "rewardId": None,
        "discountAmount": "0.75",  # 75 x 0.01, the default point value
    }


async def test_active_only_hides_disabled_out_of_window_and_out_of_stock_rewards(
    gql: GraphQLClient,
) -> None:
    await voucher(gql, "A-OPEN", pointsCost=10)
    await voucher(gql, "B-OFF", pointsCost=20, enabled=False)
    await voucher(gql, "C-SOON", pointsCost=30, startsAt=moment(1))
    await voucher(gql, "D-OVER", pointsCost=40, startsAt=moment(-2), endsAt=moment(-1))
    await voucher(gql, "E-GONE", pointsCost=50, stock=0)
    await voucher(gql, "F-S2", pointsCost=60, storeIds=["S2"], startsAt=moment(-1))

    every = await catalog(gql, activeOnly=False)

    assert [(r["id"], r["active"], r["enabled"]) for r in every] == [
        ("A-OPEN", True, True),
        ("B-OFF", False, False),
        ("C-SOON", False, True),
        ("D-OVER", False, True),
        ("E-GONE", False, True),
        ("F-S2", True, True),
    ]
    assert [r["id"] for r in await catalog(gql)] == ["A-OPEN", "F-S2"]
    assert [r["id"] for r in await catalog(gql, storeId="S1")] == ["A-OPEN"]
    assert [r["id"] for r in await catalog(gql, storeId="S2")] == ["A-OPEN", "F-S2"]


async def test_update_reward_changes_the_reward_in_the_catalog(gql: GraphQLClient) -> None:
    await voucher(gql, "V1")

    disabled = await voucher(gql, "V1", update=True, enabled=False, stock=3)
    hidden = await catalog(gql)
    enabled = await save_reward(
        gql, update=True, id="V1", name="Coffee", pointsCost=25, kind="FREE_ITEM", sku="COFFEE"
    )

    assert (disabled["active"], disabled["enabled"], disabled["stock"]) == (False, False, 3)
    assert hidden == []
    assert (enabled["name"], enabled["pointsCost"], enabled["kind"], enabled["sku"]) == (
        "Coffee",
        25,
        "FREE_ITEM",
        "COFFEE",
    )
    assert await catalog(gql) == [{"id": "V1", "active": True, "enabled": True, "stock": None}]


async def test_updating_an_unknown_reward_is_reward_not_found_on_its_id(gql: GraphQLClient) -> None:
    input_ = {"id": "NOPE", "name": "Ghost", "pointsCost": 10, "kind": "VOUCHER"}

    payload = (await gql.data(UPDATE_REWARD, {"input": input_}))["updateReward"]

    assert payload["reward"] is None
    # The id is a field of the input here (updateReward(input: {id ...})).
    assert refusals(payload) == [("REWARD_NOT_FOUND", ["input", "id"])]
    assert await catalog(gql, activeOnly=False) == []


async def test_an_unknown_reward_is_reward_not_found_and_changes_nothing(
    gql: GraphQLClient,
) -> None:
    customer_id = await customer_with_100_points(gql)

    refused = await redeem(gql, customer_id, "ghost", rewardId="NOPE")

    assert refused["transaction"] is None
    assert refused["redemption"] is None
    assert refusals(refused) == [("REWARD_NOT_FOUND", ["input", "rewardId"])]
    assert await balance(gql, customer_id) == (100, 1)


UNAVAILABLE = [
    pytest.param({"enabled": False}, id="disabled"),
    pytest.param({"startsAt": moment(1)}, id="not-started"),
    pytest.param({"startsAt": moment(-2), "endsAt": moment(-1)}, id="ended"),
    pytest.param({"storeIds": ["S2"]}, id="other-store"),
    pytest.param({"stock": 0}, id="out-of-stock"),
]


@pytest.mark.parametrize("unavailable", UNAVAILABLE)
async def test_an_unavailable_reward_is_reward_inactive_and_changes_nothing(
    gql: GraphQLClient, unavailable: dict[str, Any]
) -> None:
    customer_id = await customer_with_100_points(gql)
    await voucher(gql, "V1", **unavailable)

    refused = await redeem(gql, customer_id, "too-bad", rewardId="V1")

    assert refused["transaction"] is None
    assert refused["redemption"] is None
    assert refusals(refused) == [("REWARD_INACTIVE", ["input", "rewardId"])]
    assert await balance(gql, customer_id) == (100, 1)
    assert (await catalog(gql, activeOnly=False))[0]["stock"] == unavailable.get("stock")


async def test_each_redemption_takes_one_from_stock_and_the_last_makes_it_inactive(
    gql: GraphQLClient,
) -> None:
    customer_id = await customer_with_100_points(gql)
    await voucher(gql, "V1", stock=2)

    first = await redeem(gql, customer_id, "one", rewardId="V1")
    after_first = await catalog(gql, activeOnly=False)
    second = await redeem(gql, customer_id, "two", rewardId="V1")
    after_second = await catalog(gql, activeOnly=False)
    third = await redeem(gql, customer_id, "three", rewardId="V1")

    assert [first["userErrors"], second["userErrors"]] == [[], []]
    assert after_first == [{"id": "V1", "active": True, "enabled": True, "stock": 1}]
    assert after_second == [{"id": "V1", "active": False, "enabled": True, "stock": 0}]
    assert await catalog(gql) == []
    assert refusals(third) == [("REWARD_INACTIVE", ["input", "rewardId"])]
    assert await balance(gql, customer_id) == (20, 3)


async def test_a_retried_voucher_redemption_returns_the_same_code_once(
    gql: GraphQLClient,
) -> None:
    customer_id = await customer_with_100_points(gql)
    await voucher(gql, "V1", stock=5)

    first = await redeem(gql, customer_id, "voucher-1", rewardId="V1")
    retry = await redeem(gql, customer_id, "voucher-1", rewardId="V1")

    assert first["redemption"]["voucherCode"] is not None
    assert retry["redemption"] == first["redemption"]
    assert retry["transaction"] == first["transaction"]
    assert await balance(gql, customer_id) == (60, 2)
    assert (await catalog(gql))[0]["stock"] == 4


BAD_REWARDS = [
    pytest.param({"kind": "VOUCHER", "pointsCost": 0}, "pointsCost", id="free"),
    pytest.param({"kind": "VOUCHER", "pointsCost": -5}, "pointsCost", id="negative-cost"),
    pytest.param({"kind": "PERCENT_DISCOUNT", "discountPercent": "150"}, "discountPercent"),
    pytest.param({"kind": "PERCENT_DISCOUNT"}, "discountPercent", id="no-percent"),
    pytest.param({"kind": "FIXED_DISCOUNT"}, "discountAmount", id="no-amount"),
    pytest.param({"kind": "FIXED_DISCOUNT", "discountAmount": "0"}, "discountAmount"),
    pytest.param({"kind": "FREE_ITEM"}, "sku", id="free-item-without-sku"),
    pytest.param({"kind": "VOUCHER", "stock": -1}, "stock", id="negative-stock"),
    pytest.param(
        {"kind": "VOUCHER", "startsAt": moment(2), "endsAt": moment(1)}, "endsAt", id="window"
    ),
    pytest.param({"kind": "VOUCHER", "name": "  "}, "name", id="blank-name"),
]


@pytest.mark.parametrize(("input_", "field"), BAD_REWARDS)
async def test_a_bad_reward_is_invalid_input_on_its_field_and_nothing_is_stored(
    gql: GraphQLClient, input_: dict[str, Any], field: str
) -> None:
    reward = {"id": "R1", "name": "Treat", "pointsCost": 40, **input_}

    payload = (await gql.data(CREATE_REWARD, {"input": reward}))["createReward"]

    assert payload["reward"] is None
    assert refusals(payload) == [("INVALID_INPUT", ["input", field])]
    assert await catalog(gql, activeOnly=False) == []


async def test_a_reward_id_can_be_created_only_once(gql: GraphQLClient) -> None:
    await voucher(gql, "V1")
    again = {"id": "V1", "name": "Impostor", "pointsCost": 1, "kind": "VOUCHER"}

    payload = (await gql.data(CREATE_REWARD, {"input": again}))["createReward"]

    assert payload["reward"] is None
    assert refusals(payload) == [("INVALID_INPUT", ["input", "id"])]
    kept = (await gql.data("{ rewards { id name pointsCost } }"))["rewards"]
    assert kept == [{"id": "V1", "name": "V1 reward", "pointsCost": 40}]


@pytest.mark.parametrize("role", [Role.MANAGER, Role.CASHIER])
async def test_only_an_admin_may_create_or_update_a_reward(
    gql: GraphQLClient, settings: Settings, role: Role
) -> None:
    await voucher(gql, "V1")
    staff = gql.with_token(mint(settings, role))
    cheap = {"id": "V1", "name": "Cheap", "pointsCost": 1, "kind": "VOUCHER"}

    created = await staff.raw(CREATE_REWARD, {"input": {**cheap, "id": "V2"}})
    updated = await staff.raw(UPDATE_REWARD, {"input": cheap})

    for body in (created, updated):
        assert body["data"] is None
        assert [error["extensions"]["code"] for error in body["errors"]] == ["FORBIDDEN"]
    kept = (await gql.data("{ rewards { id name pointsCost } }"))["rewards"]
    assert kept == [{"id": "V1", "name": "V1 reward", "pointsCost": 40}]
