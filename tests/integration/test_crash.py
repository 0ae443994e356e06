"""A server killed with SIGKILL under a load of earns loses no earn it acknowledged, and
every request retried with its key against the next server applies once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api.auth import Role
from api.settings import Settings
from persistence.database import Database
from persistence.models import CustomerRow, JournalEntryRow, OutboxRow
from tests.conftest import mint
from tests.integration.test_processes import customer_with_store, server_process
from tests.operations import ENROLL, line

CLIENTS = 8
CUSTOMERS = 4
LOAD_SECONDS = 1.5
EARN = """mutation($input: EarnPointsInput!) { earnPoints(input: $input) {
  transaction { id points } userErrors { code } } }"""


def earn_request(customer_id: str, key: str) -> dict[str, Any]:
    sale = {"customerId": customer_id, "idempotencyKey": key, "storeId": "S1"}
    return {"query": EARN, "variables": {"input": sale | {"lines": [line("3.00")]}}}


async def acknowledged_id(http: httpx.AsyncClient, request: dict[str, Any]) -> str | None:
    """The transaction id the server acknowledged, or None if no answer came."""
    try:
        response = await http.post("/graphql", json=request)
    except httpx.HTTPError:
        return None
    payload = response.json()["data"]["earnPoints"]
    assert payload["userErrors"] == [], payload
    return str(payload["transaction"]["id"])


async def till(
    base: str, token: str, number: int, customers: list[str], sent: dict[str, dict[str, Any]]
) -> dict[str, str]:
    """Earns one after another until the server stops answering: the keys it acknowledged."""
    acknowledged: dict[str, str] = {}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=5) as http:
        for count in range(10_000):
            key = f"till-{number}-{count}"
            sent[key] = earn_request(customers[count % len(customers)], key)
            transaction_id = await acknowledged_id(http, sent[key])
            if transaction_id is None:
                return acknowledged
            acknowledged[key] = transaction_id
    return acknowledged


async def kill_after(process: subprocess.Popen[bytes], seconds: float) -> None:
    await asyncio.sleep(seconds)
    process.send_signal(signal.SIGKILL)


async def enrolled_customers(base: str, token: str) -> list[str]:
    first = await customer_with_store(base, token)
    others = []
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        for number in range(CUSTOMERS - 1):
            response = await http.post(
                "/graphql",
                json={"query": ENROLL, "variables": {"input": {"email": f"c{number}@x.org"}}},
                headers={"Authorization": f"Bearer {token}"},
            )
            others.append(response.json()["data"]["enrollCustomer"]["customer"]["id"])
    return [first, *others]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_server_killed_under_load_loses_no_acknowledged_earn(
    database: Database, database_url: str
) -> None:
    token = mint(Settings(), Role.ADMIN, stores=(), terminal=None)
    sent: dict[str, dict[str, Any]] = {}
    with server_process(database_url) as (base, process):
        customers = await enrolled_customers(base, token)
        killing = asyncio.create_task(kill_after(process, LOAD_SECONDS))
        tills = [till(base, token, number, customers, sent) for number in range(CLIENTS)]
        acknowledged = {k: v for found in await asyncio.gather(*tills) for k, v in found.items()}
        await killing
        assert process.wait(timeout=10) == -signal.SIGKILL
    assert len(acknowledged) > CLIENTS, "the load ran before the kill"
    assert len(sent) > len(acknowledged), "some earns were in flight when it died"

    with server_process(database_url) as (base, _process):
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as http:
            retried = {key: await acknowledged_id(http, request) for key, request in sent.items()}

    assert {key: retried[key] for key in acknowledged} == acknowledged
    await assert_each_key_applied_once(database, set(sent))


async def assert_each_key_applied_once(database: Database, keys: set[str]) -> None:
    async with database.reading() as session:
        entries = Counter((await session.scalars(select(JournalEntryRow.idempotency_key))).all())
        balances = await session.scalar(select(func.sum(CustomerRow.balance)))
        earned = await session.scalar(select(func.sum(JournalEntryRow.points)))
        changes = await session.scalar(select(func.count()).select_from(OutboxRow))
    assert entries == dict.fromkeys(keys, 1)
    assert balances == earned == 3 * len(keys)
    assert changes == len(keys)
