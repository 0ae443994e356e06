"""Benchmark: balance subscriptions under a steady stream of earns.

Starts its own server (`loyalty serve`, on a fresh database), opens N
subscriptions over graphql-transport-ws across many customers, drives earn
mutations at a fixed rate and prints: latency from the mutation's start
(its transaction's occurredAt, stamped by the server) to a subscriber
receiving it, p50/p99; deliveries per second; lost and duplicate messages
(by balanceVersion); and the server's resident memory per open subscription.

    .venv/bin/python bench/fanout.py --subscribers 1000 --customers 200
    .venv/bin/python bench/fanout.py --subscribers 10000 --customers 1000 \\
        --per-connection 10 --database-url postgresql+asyncpg://postgres@127.0.0.1/bench

A measurement, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from api.auth import Role, TokenIssuer
from api.settings import Settings

SUBSCRIBE = (
    "subscription($id: ID!) { balanceChanged(customerId: $id) "
    "{ balance balanceVersion transaction { id createdAt } } }"
)
ENROLL = "mutation($e: String!) { enrollCustomer(input: {email: $e}) { customer { id } } }"
EARN = (
    "mutation($id: ID!, $key: String!) { earnPoints(input: {customerId: $id, "
    'idempotencyKey: $key, storeId: "B1", lines: [{sku: "X", category: "c", quantity: 1, '
    'unitPrice: "10.00"}]}) { userErrors { code } } }'
)


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    delivered: int = 0
    duplicates: int = 0
    lost: int = 0
    first_at: float = 0.0
    last_at: float = 0.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def start_server(database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "LOYALTY_AUTH_SECRET"}
    env |= {
        "LOYALTY_DATABASE_URL": database_url,
        "LOYALTY_LOG_LEVEL": "WARNING",
        "LOYALTY_RATE_LIMIT": "1000000/minute",
        "LOYALTY_ANONYMOUS_RATE_LIMIT": "1000000/minute",
    }
    subprocess.run([sys.executable, "-m", "api.cli", "migrate"], env=env, check=True)
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)], env=env
    )


async def wait_healthy(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        for _ in range(200):
            try:
                if (await http.get("/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the server did not start")


async def graphql(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    if "errors" in body:
        raise SystemExit(f"GraphQL error: {body['errors']}")
    return body["data"]


async def enroll_customers(http: httpx.AsyncClient, count: int) -> list[str]:
    await graphql(
        http, 'mutation { createStore(input: {id: "B1", name: "Bench"}) { store { id } } }', {}
    )
    ids = []
    for n in range(count):
        data = await graphql(http, ENROLL, {"e": f"bench{n}@example.com"})
        ids.append(data["enrollCustomer"]["customer"]["id"])
    return ids


LISTENERS: set[asyncio.Task[None]] = set()


async def open_connection(
    url: str, token: str, customer_ids: list[str], tally: Tally, ready: asyncio.Event
) -> ClientConnection:
    ws = await connect(url, subprotocols=[Subprotocol("graphql-transport-ws")], max_queue=None)
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    )
    await ws.recv()
    for n, customer_id in enumerate(customer_ids):
        payload = {"query": SUBSCRIBE, "variables": {"id": customer_id}}
        await ws.send(json.dumps({"id": str(n), "type": "subscribe", "payload": payload}))
    listener = asyncio.create_task(listen(ws, len(customer_ids), tally, ready))
    LISTENERS.add(listener)
    listener.add_done_callback(LISTENERS.discard)
    return ws


async def listen(
    ws: ClientConnection, subscriptions: int, tally: Tally, ready: asyncio.Event
) -> None:
    last: dict[str, int] = {}
    snapshots = 0
    async for raw in ws:
        message = json.loads(raw)
        if message["type"] != "next":
            continue
        change = message["payload"]["data"]["balanceChanged"]
        key, version = message["id"], change["balanceVersion"]
        if change["transaction"] is None:
            last[key] = version
            snapshots += 1
            if snapshots == subscriptions:
                ready.set()
            continue
        now = time.time()
        seen = last.get(key, 0)
        if version <= seen:
            tally.duplicates += 1
            continue
        tally.lost += version - seen - 1
        last[key] = version
        tally.delivered += 1
        tally.first_at = tally.first_at or now
        tally.last_at = now
        created = datetime.fromisoformat(change["transaction"]["createdAt"]).timestamp()
        tally.latencies.append(now - created)


async def drive_earns(
    http: httpx.AsyncClient, customers: list[str], rate: float, duration: float
) -> list[str]:
    """Earns at a fixed rate for random customers; returns whom they were for."""
    earned: list[str] = []
    sent, interval, started = 0, 1 / rate, time.monotonic()
    pending: set[asyncio.Task[Any]] = set()
    while time.monotonic() - started < duration:
        customer = random.choice(customers)
        task = asyncio.create_task(graphql(http, EARN, {"id": customer, "key": f"b-{sent}"}))
        pending.add(task)
        task.add_done_callback(pending.discard)
        earned.append(customer)
        sent += 1
        await asyncio.sleep(max(0.0, started + sent * interval - time.monotonic()))
    await asyncio.gather(*pending)
    return earned


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


async def run(arguments: argparse.Namespace) -> None:
    port = free_port()
    base, ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/graphql"
    database_url = arguments.database_url or (f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db")
    server = start_server(database_url, port)
    token = TokenIssuer(Settings().auth_secret.get_secret_value()).mint(
        role=Role.ADMIN,
        staff_id="bench",
        stores=(),
        terminal_id=None,
        now=datetime.now(UTC),
        ttl=timedelta(hours=2),
    )
    headers = {"Authorization": f"Bearer {token}"}
    try:
        await wait_healthy(base)
        async with httpx.AsyncClient(
            base_url=base, headers=headers, timeout=30, limits=httpx.Limits(max_connections=50)
        ) as http:
            customers = await enroll_customers(http, arguments.customers)
            memory_before = rss_bytes(server.pid)
            tally, readies, sockets = Tally(), [], []
            per = arguments.per_connection
            watched = [customers[n % len(customers)] for n in range(arguments.subscribers)]
            opened = time.monotonic()
            for start in range(0, len(watched), per):
                ready = asyncio.Event()
                readies.append(ready)
                sockets.append(
                    await open_connection(ws_url, token, watched[start : start + per], tally, ready)
                )
            await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 300)
            open_seconds = time.monotonic() - opened
            await asyncio.sleep(1)
            memory_after = rss_bytes(server.pid)
            subscribers_of: defaultdict[str, int] = defaultdict(int)
            for customer in watched:
                subscribers_of[customer] += 1
            earned = await drive_earns(http, customers, arguments.rate, arguments.duration)
            await asyncio.sleep(3)
            for ws in sockets:
                await ws.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    expected = sum(subscribers_of[customer] for customer in earned)
    report(arguments, tally, len(earned), expected, open_seconds, (memory_before, memory_after))


def report(  # noqa: PLR0917  (a flat list of figures to print)
    arguments: argparse.Namespace,
    tally: Tally,
    sent: int,
    expected: int,
    open_seconds: float,
    memory: tuple[int, int],
) -> None:
    memory_before, memory_after = memory
    span = max(tally.last_at - tally.first_at, 1e-9)
    per_subscription = (memory_after - memory_before) / max(arguments.subscribers, 1)
    lines = [
        f"subscribers            {arguments.subscribers} over {arguments.customers} customers, "
        f"{arguments.per_connection} per connection (opened in {open_seconds:.1f} s)",
        f"earns                  {sent} at {arguments.rate}/s for {arguments.duration} s",
        f"deliveries             {tally.delivered} of {expected} expected "
        f"({tally.delivered / span:.0f}/s)",
        f"lost / duplicates      {max(expected - tally.delivered, tally.lost)} / "
        f"{tally.duplicates}",
        f"latency p50 / p99      {percentile(tally.latencies, 0.5) * 1000:.1f} ms / "
        f"{percentile(tally.latencies, 0.99) * 1000:.1f} ms (mutation start to receipt)",
        f"server memory          {per_subscription / 1024:.1f} KiB per open subscription "
        f"({memory_before / 2**20:.0f} -> {memory_after / 2**20:.0f} MiB)",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--per-connection", type=int, default=1)
    parser.add_argument("--rate", type=float, default=50.0, help="earns per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of earning")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
