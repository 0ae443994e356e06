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
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from processes import free_port, graphql, rss_bytes, start_server, stop, wait_healthy
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


async def enroll_customers(
    http: httpx.AsyncClient,
    count: int,
    enrolled: Callable[[], None] = lambda: None,
    at_once: int = 8,
) -> list[str]:
    """Store B1 and `count` customers, enrolled a few at a time; their ids in order."""
    await graphql(
        http, 'mutation { createStore(input: {id: "B1", name: "Bench"}) { store { id } } }', {}
    )
    ids: list[str] = []
    for start in range(0, count, at_once):
        batch = range(start, min(count, start + at_once))
        answers = await asyncio.gather(
            *(graphql(http, ENROLL, {"e": f"bench{n}@example.com"}) for n in batch)
        )
        ids.extend(data["enrollCustomer"]["customer"]["id"] for data in answers)
        for _ in batch:
            enrolled()
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


@dataclass
class Subscribed:
    """Subscriptions open, each with its snapshot received: their connections, how long
    opening them took, and the server's resident memory before and after."""

    sockets: list[ClientConnection]
    seconds: float
    memory: tuple[int, int]

    async def close(self) -> None:
        for ws in self.sockets:
            await ws.close()


async def subscribe(  # noqa: PLR0917  (the one place these meet)
    url: str,
    token: str,
    watched: list[str],
    per_connection: int,
    tally: Tally,
    server_pid: int,
    opened: Callable[[int], None] = lambda _: None,
) -> Subscribed:
    """One subscription per entry of `watched` (a customer id), `per_connection` on each
    connection; the server's memory is read again a second after the last snapshot."""
    memory_before = rss_bytes(server_pid)
    readies: list[asyncio.Event] = []
    sockets: list[ClientConnection] = []
    started = time.monotonic()
    for start in range(0, len(watched), per_connection):
        ready = asyncio.Event()
        readies.append(ready)
        chunk = watched[start : start + per_connection]
        sockets.append(await open_connection(url, token, chunk, tally, ready))
        opened(len(chunk))
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 300)
    seconds = time.monotonic() - started
    await asyncio.sleep(1)
    return Subscribed(sockets, seconds, (memory_before, rss_bytes(server_pid)))


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
        await wait_healthy(base, server)
        async with httpx.AsyncClient(
            base_url=base, headers=headers, timeout=30, limits=httpx.Limits(max_connections=50)
        ) as http:
            customers = await enroll_customers(http, arguments.customers)
            watched = [customers[n % len(customers)] for n in range(arguments.subscribers)]
            tally = Tally()
            subscribed = await subscribe(
                ws_url, token, watched, arguments.per_connection, tally, server.pid
            )
            subscribers_of: defaultdict[str, int] = defaultdict(int)
            for customer in watched:
                subscribers_of[customer] += 1
            earned = await drive_earns(http, customers, arguments.rate, arguments.duration)
            await asyncio.sleep(3)
            await subscribed.close()
    finally:
        stop(server)
    expected = sum(subscribers_of[customer] for customer in earned)
    report(arguments, tally, len(earned), expected, subscribed.seconds, subscribed.memory)


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
