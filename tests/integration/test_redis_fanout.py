"""Across processes: a change committed through one app reaches subscribers of another."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from redis.asyncio import Redis
from starlette.applications import Starlette

from api.app import create_app
from api.settings import Settings
from tests.api.test_balance_subscription import next_change, open_ws, start
from tests.conftest import REDIS_URL, GraphQLClient, websocket_client
from tests.operations import create_store, earn, enroll, line

PROTOCOL = "graphql-transport-ws"


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Starlette]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def client_of(app: Starlette, admin_token: str) -> AsyncIterator[GraphQLClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        yield GraphQLClient(http, admin_token)


def redis_settings(settings: Settings, prefix: str) -> Settings:
    return settings.model_copy(update={"redis_url": REDIS_URL, "redis_prefix": prefix})


async def kill_listener_connections(prefix: str) -> int:
    """Drop this test's apps' pub/sub connections, as a Redis restart or a network cut would."""
    admin = Redis.from_url(REDIS_URL)
    try:
        clients: list[dict[str, Any]] = await admin.client_list()
        listeners = [
            client["id"]
            for client in clients
            if client["name"].startswith(prefix) and "P" in client["flags"]
        ]
        for client_id in listeners:
            await admin.client_kill_filter(_id=client_id)
    finally:
        await admin.aclose()
    return len(listeners)


async def test_a_change_made_through_one_process_reaches_a_subscriber_of_another(
    settings: Settings, redis_prefix: str, admin_token: str
) -> None:
    shared = redis_settings(settings, redis_prefix)
    async with (
        running(shared) as writer,
        running(shared) as reader,
        client_of(writer, admin_token) as gql,
    ):
        await create_store(gql)
        customer = await enroll(gql, email="far@example.com")
        async with websocket_client(reader) as http, open_ws(http, PROTOCOL) as ws:
            await start(ws, PROTOCOL, customer["id"], admin_token)
            snapshot = await next_change(ws, PROTOCOL)
            await asyncio.sleep(0.2)  # the reader's listener subscribes in the background
            await earn(gql, customer["id"], "far-1", [line("15.00")])
            change = await next_change(ws, PROTOCOL)

    assert (snapshot["balance"], snapshot["balanceVersion"]) == (0, 0)
    assert (change["balance"], change["balanceVersion"], change["delta"]) == (15, 1, 15)


async def test_subscribers_converge_after_the_redis_connection_drops(
    settings: Settings, redis_prefix: str, admin_token: str
) -> None:
    shared = redis_settings(settings, redis_prefix)
    async with (
        running(shared) as writer,
        running(shared) as reader,
        client_of(writer, admin_token) as gql,
    ):
        await create_store(gql)
        customer = await enroll(gql, email="cut@example.com")
        async with websocket_client(reader) as http, open_ws(http, PROTOCOL) as ws:
            await start(ws, PROTOCOL, customer["id"], admin_token)
            await next_change(ws, PROTOCOL)
            await asyncio.sleep(0.2)
            assert await kill_listener_connections(redis_prefix) >= 2
            await earn(gql, customer["id"], "while-cut", [line("5.00")])
            after_cut = await next_change(ws, PROTOCOL)
            await earn(gql, customer["id"], "after-cut", [line("6.00")])
            later = await next_change(ws, PROTOCOL)

    assert (after_cut["balance"], after_cut["balanceVersion"]) == (5, 1)
    assert (later["balance"], later["balanceVersion"]) == (11, 2)
