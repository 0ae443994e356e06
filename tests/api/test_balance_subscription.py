"""balanceChanged over WebSocket: the balance as it stands, then each committed change."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from httpx_ws import AsyncWebSocketSession, aconnect_ws
from starlette.applications import Starlette

from tests.conftest import GraphQLClient, websocket_client
from tests.operations import create_store, earn, enroll, line, redeem

SUBSCRIBE = """
subscription($customerId: ID!) {
  balanceChanged(customerId: $customerId) {
    customerId balance balanceVersion delta occurredAt transaction { id kind points }
  }
}"""

TIMEOUT = 5.0


def open_ws(
    http: httpx.AsyncClient, protocol: str
) -> AbstractAsyncContextManager[AsyncWebSocketSession]:
    return aconnect_ws("/graphql", http, subprotocols=[protocol])


async def next_message(ws: AsyncWebSocketSession) -> dict[str, Any]:
    """The next message that is not a keep-alive ("ka" on the legacy graphql-ws)."""
    while True:
        message: dict[str, Any] = await ws.receive_json(timeout=TIMEOUT)
        if message["type"] != "ka":
            return message


async def next_change(ws: AsyncWebSocketSession, protocol: str) -> dict[str, Any]:
    message = await next_message(ws)
    expected = "next" if protocol == "graphql-transport-ws" else "data"
    assert message["type"] == expected, message
    assert "errors" not in message["payload"], message
    change: dict[str, Any] = message["payload"]["data"]["balanceChanged"]
    return change


async def start(ws: AsyncWebSocketSession, protocol: str, customer_id: str, token: str) -> None:
    await ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    assert (await next_message(ws))["type"] == "connection_ack"
    subscribe = "subscribe" if protocol == "graphql-transport-ws" else "start"
    payload = {"query": SUBSCRIBE, "variables": {"customerId": customer_id}}
    await ws.send_json({"id": "1", "type": subscribe, "payload": payload})


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
async def test_a_subscriber_gets_the_snapshot_then_every_change_in_order(
    app: Starlette, gql: GraphQLClient, protocol: str, admin_token: str
) -> None:
    await create_store(gql)
    customer = await enroll(gql, email="watch@example.com")
    await earn(gql, customer["id"], "before", [line("7.00")])

    async with (
        websocket_client(app) as http,
        open_ws(http, protocol) as ws,
    ):
        await start(ws, protocol, customer["id"], admin_token)
        snapshot = await next_change(ws, protocol)
        earned = await earn(gql, customer["id"], "during", [line("20.00")])
        refused = await redeem(gql, customer["id"], "too-much", 1000)
        spent = await redeem(gql, customer["id"], "spend", 5)
        changes = [await next_change(ws, protocol) for _ in range(2)]

    assert snapshot["balance"] == 7
    assert snapshot["balanceVersion"] == 1
    assert snapshot["delta"] == 0
    assert snapshot["transaction"] is None
    assert refused["userErrors"][0]["code"] == "INSUFFICIENT_POINTS"
    assert [(c["balance"], c["balanceVersion"], c["delta"]) for c in changes] == [
        (27, 2, 20),
        (22, 3, -5),
    ]
    assert changes[0]["transaction"]["id"] == earned["transaction"]["id"]
    assert changes[1]["transaction"]["id"] == spent["transaction"]["id"]


async def test_a_subscription_to_an_unknown_customer_gets_a_coded_error(
    app: Starlette, gql: GraphQLClient, admin_token: str
) -> None:
    async with (
        websocket_client(app) as http,
        open_ws(http, "graphql-transport-ws") as ws,
    ):
        await start(ws, "graphql-transport-ws", "no-such-customer", admin_token)
        message = await ws.receive_json(timeout=TIMEOUT)

    assert message["type"] == "next"
    assert message["payload"]["data"] is None
    assert message["payload"]["errors"][0]["extensions"]["code"] == "CUSTOMER_NOT_FOUND"
