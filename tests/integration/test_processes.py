"""Real server processes on one PostgreSQL and one Redis: changes cross processes, and
subscribers converge after Redis itself dies and comes back."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from api.auth import Role
from api.settings import Settings
from persistence.database import Database
from tests.api.test_balance_subscription import SUBSCRIBE
from tests.conftest import mint
from tests.operations import CREATE_STORE, EARN, ENROLL, line

STARTUP_SECONDS = 30
CONVERGE_SECONDS = 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def accepts_connections(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
        return True


def healthy(base: str) -> bool:
    with urllib.request.urlopen(f"{base}/health", timeout=1) as response:
        return bool(response.status == 200)


def wait_until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def redis_server(port: int, workdir: Path) -> Iterator[subprocess.Popen[bytes]]:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: accepts_connections(port), 10, "redis-server")
        yield process
    finally:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def server(database_url: str, redis_url: str | None, prefix: str = "loyalty") -> Iterator[str]:
    """`loyalty serve` in its own process (in-process pub/sub when redis_url is None)."""
    settings = {"LOYALTY_REDIS_PREFIX": prefix}
    if redis_url is not None:
        settings["LOYALTY_REDIS_URL"] = redis_url
    with server_process(database_url, settings) as (base, _process):
        yield base


@contextmanager
def server_process(
    database_url: str, settings: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`loyalty serve` in its own process, healthy: its address and its process (which a
    test may kill); terminated afterwards if it still runs."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    env |= {"LOYALTY_DATABASE_URL": database_url, "LOYALTY_LOG_LEVEL": "WARNING"}
    env |= settings or {}
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: healthy(base), STARTUP_SECONDS, "the server")
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=10)


@asynccontextmanager
async def subscribed(base: str, token: str, customer_id: str) -> AsyncIterator[ClientConnection]:
    uri = base.replace("http://", "ws://") + "/graphql"
    async with connect(uri, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        payload = {"query": SUBSCRIBE, "variables": {"customerId": customer_id}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        yield ws


async def next_balance(ws: ClientConnection) -> tuple[int, int]:
    """The next (balance, version) the subscriber sees, within CONVERGE_SECONDS."""
    async with asyncio.timeout(CONVERGE_SECONDS):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == "next":
                change = message["payload"]["data"]["balanceChanged"]
                return int(change["balance"]), int(change["balanceVersion"])


async def post(base: str, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def customer_with_store(base: str, token: str) -> str:
    await post(base, token, CREATE_STORE, {"input": {"id": "S1", "name": "Main"}})
    enrolled = await post(base, token, ENROLL, {"input": {"email": "far@example.com"}})
    return str(enrolled["enrollCustomer"]["customer"]["id"])


async def earn(base: str, token: str, customer_id: str, key: str, price: str) -> None:
    data = await post(
        base,
        token,
        EARN,
        {
            "input": {
                "customerId": customer_id,
                "idempotencyKey": key,
                "storeId": "S1",
                "lines": [line(price)],
            }
        },
    )
    assert data["earnPoints"]["userErrors"] == []


@pytest.fixture
def admin() -> str:
    """Signed with the secret the server processes use: the default, development one."""
    return mint(Settings(), Role.ADMIN, stores=(), terminal=None)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_change_made_in_one_process_reaches_a_subscriber_of_another(
    database: Database, database_url: str, redis_prefix: str, admin: str
) -> None:
    redis_url = "redis://127.0.0.1:6379/15"
    with (
        server(database_url, redis_url, redis_prefix) as writer,
        server(database_url, redis_url, redis_prefix) as reader,
    ):
        customer_id = await customer_with_store(writer, admin)
        async with subscribed(reader, admin, customer_id) as ws:
            assert await next_balance(ws) == (0, 0)
            await earn(writer, admin, customer_id, "k1", "15.00")
            assert await next_balance(ws) == (15, 1)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_subscribers_converge_after_redis_dies_and_comes_back(
    database: Database, database_url: str, redis_prefix: str, admin: str, tmp_path: Path
) -> None:
    port = free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"
    with (
        redis_server(port, tmp_path) as first_redis,
        server(database_url, redis_url, redis_prefix) as writer,
        server(database_url, redis_url, redis_prefix) as reader,
    ):
        customer_id = await customer_with_store(writer, admin)
        async with subscribed(reader, admin, customer_id) as ws:
            assert await next_balance(ws) == (0, 0)
            first_redis.kill()
            first_redis.wait(timeout=10)
            await earn(writer, admin, customer_id, "while-down", "7.00")
            with redis_server(port, tmp_path):
                assert await next_balance(ws) == (7, 1)
                await earn(writer, admin, customer_id, "after", "3.00")
                assert await next_balance(ws) == (10, 2)
