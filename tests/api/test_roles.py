"""Store scope, personal data, audit and manual adjustments, as each role sees them."""

from __future__ import annotations

from typing import Any

from api.auth import Role
from api.settings import Settings
from tests.conftest import GraphQLClient, mint
from tests.operations import LOOKUP, create_store, earn, enroll, line, redeem

ADJUST = """
mutation($input: AdjustPointsInput!) {
  adjustPoints(input: $input) {
    transaction { kind points balanceAfter reason recordedBy { staffId role terminalId } }
    userErrors { code message field }
  }
}"""

AUDITED_HISTORY = """
query($id: ID!) {
  customer(lookup: {id: $id}) {
    transactions(first: 10) {
      edges { node { kind points terminalId reason recordedBy { staffId role terminalId } } }
    }
  }
}"""


async def seeded(gql: GraphQLClient) -> str:
    await create_store(gql, "S1")
    await create_store(gql, "S2", "Harbour")
    customer: dict[str, Any] = await enroll(
        gql, email="ada@example.com", phone="+442079460018", name="Ada"
    )
    return str(customer["id"])


def as_role(gql: GraphQLClient, settings: Settings, role: Role, **scope: Any) -> GraphQLClient:
    return gql.with_token(mint(settings, role, **scope))


async def balance(gql: GraphQLClient, customer_id: str) -> int:
    found = await gql.data(LOOKUP, {"lookup": {"id": customer_id}})
    return int(found["customer"]["balance"])


async def test_a_cashier_cannot_earn_or_redeem_outside_its_stores(
    gql: GraphQLClient, settings: Settings
) -> None:
    customer_id = await seeded(gql)
    await earn(gql, customer_id, "admin-top-up", [line("30.00")], store_id="S2")
    cashier = as_role(gql, settings, Role.CASHIER, stores=("S1",), terminal="T1")

    earned = await earn(cashier, customer_id, "other-store", [line("99.00")], store_id="S2")
    spent = await redeem(cashier, customer_id, "other-store-r", 5, store_id="S2")
    at_home = await earn(cashier, customer_id, "home-store", [line("5.00")], store_id="S1")

    for refused in (earned, spent):
        assert refused["transaction"] is None
        assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
            ("FORBIDDEN", ["input", "storeId"])
        ]
    assert at_home["userErrors"] == []
    assert await balance(gql, customer_id) == 35


async def test_a_display_sees_masked_email_and_phone_and_a_cashier_sees_them_whole(
    gql: GraphQLClient, settings: Settings
) -> None:
    customer_id = await seeded(gql)
    query = "query($id: ID!) { customer(lookup: {id: $id}) { name email phone balance } }"
    display = as_role(gql, settings, Role.DISPLAY, stores=("S1",), terminal="D1")
    cashier = as_role(gql, settings, Role.CASHIER, stores=("S1",))

    seen_by_display = (await display.data(query, {"id": customer_id}))["customer"]
    seen_by_cashier = (await cashier.data(query, {"id": customer_id}))["customer"]

    assert seen_by_display == {
        "name": "Ada",
        "email": "a***@example.com",
        "phone": "+44*******018",
        "balance": 0,
    }
    assert seen_by_cashier["email"] == "ada@example.com"
    assert seen_by_cashier["phone"] == "+442079460018"


async def test_each_entry_records_who_made_it_from_the_token_not_the_input(
    gql: GraphQLClient, settings: Settings
) -> None:
    customer_id = await seeded(gql)
    cashier = as_role(gql, settings, Role.CASHIER, stores=("S1",), terminal="T1", staff="alice")
    manager = as_role(gql, settings, Role.MANAGER, stores=("S1",), terminal=None, staff="maria")

    await earn(cashier, customer_id, "sale", [line("20.00")], terminalId="T-CLAIMED")
    history = (await manager.data(AUDITED_HISTORY, {"id": customer_id}))["customer"]
    cashier_view = (await cashier.data(AUDITED_HISTORY, {"id": customer_id}))["customer"]

    node = history["transactions"]["edges"][0]["node"]
    assert node["terminalId"] == "T-CLAIMED"
    assert node["recordedBy"] == {"staffId": "alice", "role": "cashier", "terminalId": "T1"}
    assert cashier_view["transactions"]["edges"][0]["node"]["recordedBy"] is None


async def test_a_manager_adjusts_with_a_reason_and_never_below_zero(
    gql: GraphQLClient, settings: Settings
) -> None:
    customer_id = await seeded(gql)
    manager = as_role(gql, settings, Role.MANAGER, stores=("S1",), terminal=None, staff="maria")
    base = {"customerId": customer_id, "storeId": "S1"}

    added = await manager.data(
        ADJUST, {"input": {**base, "idempotencyKey": "a1", "points": 40, "reason": "Goodwill"}}
    )
    no_reason = await manager.data(
        ADJUST, {"input": {**base, "idempotencyKey": "a2", "points": 5, "reason": "  "}}
    )
    too_much = await manager.data(
        ADJUST, {"input": {**base, "idempotencyKey": "a3", "points": -41, "reason": "Fraud"}}
    )
    removed = await manager.data(
        ADJUST, {"input": {**base, "idempotencyKey": "a4", "points": -15, "reason": "Fraud"}}
    )

    transaction = added["adjustPoints"]["transaction"]
    assert (transaction["kind"], transaction["points"], transaction["reason"]) == (
        "ADJUST",
        40,
        "Goodwill",
    )
    assert transaction["recordedBy"] == {"staffId": "maria", "role": "manager", "terminalId": None}
    assert [(e["code"], e["field"]) for e in no_reason["adjustPoints"]["userErrors"]] == [
        ("INVALID_INPUT", ["input", "reason"])
    ]
    assert [e["code"] for e in too_much["adjustPoints"]["userErrors"]] == ["INSUFFICIENT_POINTS"]
    assert removed["adjustPoints"]["transaction"]["balanceAfter"] == 25
    assert await balance(gql, customer_id) == 25
