"""A terminal's customer display: the POS sets it, the screen sees it and each change."""

from __future__ import annotations

from typing import Any

from httpx_ws import AsyncWebSocketSession
from starlette.applications import Starlette

from api.auth import Role
from api.settings import Settings
from tests.api.test_balance_subscription import next_message, open_ws
from tests.conftest import GraphQLClient, mint, websocket_client
from tests.operations import USER_ERRORS, create_store, earn, enroll, line, redeem

SHOW = f"""
mutation($input: ShowOnDisplayInput!) {{
  showOnDisplay(input: $input) {{
    display {{ customerName cartPoints projectedBalance }} {USER_ERRORS}
  }}
}}"""
CLEAR = f"""
mutation($input: ClearDisplayInput!) {{ clearDisplay(input: $input) {{ {USER_ERRORS} }} }}"""
WATCH = """
subscription($terminal: ID!) {
  terminalDisplay(terminalId: $terminal) {
    customerId customerName balance cartPoints projectedBalance version lastChange { kind points }
  }
}"""


async def watch(ws: AsyncWebSocketSession, token: str, terminal: str) -> None:
    await ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    assert (await next_message(ws))["type"] == "connection_ack"
    payload = {"query": WATCH, "variables": {"terminal": terminal}}
    await ws.send_json({"id": "1", "type": "subscribe", "payload": payload})


async def shown(ws: AsyncWebSocketSession) -> dict[str, Any]:
    message = await next_message(ws)
    assert message["type"] == "next", message
    display: dict[str, Any] = message["payload"]["data"]["terminalDisplay"]
    return display


async def served(gql: GraphQLClient) -> str:
    await create_store(gql)
    customer: dict[str, Any] = await enroll(gql, email="lin@example.com", name="Lin Ma Chen")
    await earn(gql, customer["id"], "before", [line("40.00")], terminalId="T1")
    return str(customer["id"])


async def test_the_display_shows_the_customer_the_cart_and_each_change_at_its_terminal(
    app: Starlette, gql: GraphQLClient, settings: Settings
) -> None:
    customer_id = await served(gql)
    cashier = gql.with_token(mint(settings, Role.CASHIER, stores=("S1",), terminal="T1"))
    screen = mint(settings, Role.DISPLAY, stores=("S1",), terminal="T1")
    cart = {"terminalId": "T1", "storeId": "S1", "customerId": customer_id}

    set_up = await cashier.data(SHOW, {"input": {**cart, "lines": [line("12.00")]}})
    async with websocket_client(app) as http, open_ws(http, "graphql-transport-ws") as ws:
        await watch(ws, screen, "T1")
        first = await shown(ws)
        await cashier.data(SHOW, {"input": {**cart, "lines": [line("12.00"), line("8.00")]}})
        updated_cart = await shown(ws)
        await earn(cashier, customer_id, "sale", [line("20.00")], terminalId="T1")
        earned = await shown(ws)
        await redeem(cashier, customer_id, "spend", 15, terminalId="T1")
        spent = await shown(ws)
        await cashier.data(CLEAR, {"input": {"terminalId": "T1", "storeId": "S1"}})
        cleared = await shown(ws)

    assert set_up["showOnDisplay"]["userErrors"] == []
    assert set_up["showOnDisplay"]["display"] == {
        "customerName": "Lin C.",
        "cartPoints": 12,
        "projectedBalance": 52,
    }
    assert (first["customerName"], first["balance"], first["cartPoints"]) == ("Lin C.", 40, 12)
    assert (updated_cart["cartPoints"], updated_cart["projectedBalance"]) == (20, 60)
    assert (earned["balance"], earned["lastChange"]) == (60, {"kind": "EARN", "points": 20})
    assert (spent["balance"], spent["lastChange"]) == (45, {"kind": "REDEEM", "points": -15})
    assert (cleared["customerId"], cleared["balance"], cleared["cartPoints"]) == (None, None, 0)
    assert [d["version"] for d in (first, updated_cart, cleared)] == [1, 2, 3]


async def test_a_display_token_sees_only_its_own_terminal(
    app: Starlette, gql: GraphQLClient, settings: Settings
) -> None:
    await served(gql)
    other_screen = mint(settings, Role.DISPLAY, stores=("S1",), terminal="T2")

    async with websocket_client(app) as http, open_ws(http, "graphql-transport-ws") as ws:
        await watch(ws, other_screen, "T1")
        message = await next_message(ws)

    assert message["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_cashier_cannot_drive_a_display_in_another_store(
    gql: GraphQLClient, settings: Settings
) -> None:
    customer_id = await served(gql)
    elsewhere = gql.with_token(mint(settings, Role.CASHIER, stores=("S9",), terminal="T9"))

    refused = await elsewhere.data(
        SHOW, {"input": {"terminalId": "T1", "storeId": "S1", "customerId": customer_id}}
    )

    assert [e["code"] for e in refused["showOnDisplay"]["userErrors"]] == ["FORBIDDEN"]


async def test_the_reference_display_page_is_served(gql: GraphQLClient) -> None:
    page = await gql.http.get("/display/T1")

    assert page.status_code == 200
    assert "graphql-transport-ws" in page.text
    assert "terminalDisplay" in page.text
