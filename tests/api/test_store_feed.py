"""storeTransactions: a store's points transactions as they commit, within the token's scope."""

from __future__ import annotations

import asyncio

from httpx_ws import AsyncWebSocketSession
from starlette.applications import Starlette

from api.auth import Role
from api.settings import Settings
from tests.api.test_balance_subscription import next_message, open_ws
from tests.conftest import GraphQLClient, mint, websocket_client
from tests.operations import create_store, earn, enroll, line, redeem

FEED = (
    "subscription($store: ID!) "
    "{ storeTransactions(storeId: $store) { id kind points storeId customerId } }"
)


async def subscribe(ws: AsyncWebSocketSession, token: str, store: str) -> None:
    await ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    assert (await next_message(ws))["type"] == "connection_ack"
    payload = {"query": FEED, "variables": {"store": store}}
    await ws.send_json({"id": "1", "type": "subscribe", "payload": payload})
    await asyncio.sleep(0.1)


async def test_a_store_feed_reports_that_stores_transactions_only(
    app: Starlette, gql: GraphQLClient, settings: Settings
) -> None:
    await create_store(gql, "S1")
    await create_store(gql, "S2", "Harbour")
    customer = (await enroll(gql, email="feed@example.com"))["id"]
    cashier = mint(settings, Role.CASHIER, stores=("S1",))

    async with websocket_client(app) as http, open_ws(http, "graphql-transport-ws") as ws:
        await subscribe(ws, cashier, "S1")
        await earn(gql, customer, "elsewhere", [line("9.00")], store_id="S2")
        here = await earn(gql, customer, "here", [line("20.00")], store_id="S1")
        spent = await redeem(gql, customer, "spend-here", 4, store_id="S1")
        seen = [(await next_message(ws))["payload"]["data"]["storeTransactions"] for _ in range(2)]

    assert [(t["id"], t["kind"], t["points"], t["storeId"]) for t in seen] == [
        (here["transaction"]["id"], "EARN", 20, "S1"),
        (spent["transaction"]["id"], "REDEEM", -4, "S1"),
    ]


async def test_a_store_outside_the_token_scope_is_forbidden(
    app: Starlette, gql: GraphQLClient, settings: Settings
) -> None:
    await create_store(gql, "S2", "Harbour")
    cashier = mint(settings, Role.CASHIER, stores=("S1",))

    async with websocket_client(app) as http, open_ws(http, "graphql-transport-ws") as ws:
        await subscribe(ws, cashier, "S2")
        message = await next_message(ws)

    assert message["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
