"""Terminals racing for one customer's points can never overdraw the account."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
from starlette.applications import Starlette

from api.app import create_app
from api.settings import Settings
from tests.conftest import GraphQLClient
from tests.operations import LOOKUP, create_store, earn, enroll, line, redeem


def outcome(payload: dict[str, Any]) -> str:
    errors = payload["userErrors"]
    return "OK" if not errors else str(errors[0]["code"])


async def test_fifty_concurrent_redeems_of_ten_against_a_hundred_give_ten_successes(
    gql: GraphQLClient,
) -> None:
    await create_store(gql)
    customer = await enroll(gql, email="busy@example.com")
    await earn(gql, customer["id"], "top-up", [line("100.00")])

    results = await asyncio.gather(
        *(redeem(gql, customer["id"], f"till-{n}", 10, terminalId=f"T{n % 5}") for n in range(50))
    )

    assert Counter(outcome(result) for result in results) == {
        "OK": 10,
        "INSUFFICIENT_POINTS": 40,
    }
    balances_after = sorted(r["transaction"]["balanceAfter"] for r in results if r["transaction"])
    assert balances_after == list(range(0, 100, 10))
    found = await gql.data(LOOKUP, {"lookup": {"id": customer["id"]}})
    assert found["customer"]["balance"] == 0
    assert found["customer"]["balanceVersion"] == 11


async def test_two_server_processes_on_one_database_never_overdraw(
    gql: GraphQLClient, settings: Settings, admin_token: str
) -> None:
    """A second app has its own engine and pool (and on SQLite its own lock), like a
    second process: only the database itself can keep the two from overdrawing."""
    await create_store(gql)
    customer = await enroll(gql, email="twoprocs@example.com")
    await earn(gql, customer["id"], "top-up", [line("100.00")])

    second: Starlette = create_app(settings)
    async with (
        second.router.lifespan_context(second),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=second), base_url="http://second"
        ) as other_http,
    ):
        other = GraphQLClient(other_http, admin_token)
        results = await asyncio.gather(
            *(redeem(gql if n % 2 else other, customer["id"], f"proc-{n}", 10) for n in range(30))
        )

    assert Counter(outcome(result) for result in results) == {
        "OK": 10,
        "INSUFFICIENT_POINTS": 20,
    }
    found = await gql.data(LOOKUP, {"lookup": {"id": customer["id"]}})
    assert found["customer"]["balance"] == 0
