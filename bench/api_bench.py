"""Benchmark (issue 13): the API against a plain Starlette + asyncpg reference, side by side.

Creates a fresh PostgreSQL database (dropped first if there: its name must start with
`bench`), migrates it with the project's Alembic migrations, starts the real server
(`loyalty serve`, one process, Redis for pub/sub and the rate limiter, the rate limits
raised so that the limiter never refuses) and the plain reference (bench/api_reference.py
under uvicorn, one process, on its own tables in the schema `reference` of the same
database, the same Redis). Seeds both with the same store and customers, then drives both
with the same load, alternating project and reference so that the machine's noise falls on
both, for: earnPoints with two lines (a fresh idempotency key each, random customers), a
balance lookup by customer id, and `{ __typename }` with a token (the reference: constant
JSON). Prints the medians of the rounds (throughput, p50, p99, server CPU per request read
from /proc), the ratio project / reference against the issue's targets; then opens N
subscriptions to ONE customer's balance and prints the latency from each change (the
transaction's createdAt, stamped by the server) to each subscriber receiving it, and the
server's memory per open subscription.

The load comes from wrk and bench/api_bench.lua when wrk is installed (`apt-get install
wrk` on Debian and Ubuntu, `brew install wrk` on macOS), else from an asyncio + httpx
client in this process, which takes CPU from the servers it measures: install wrk.

    .venv/bin/python bench/api_bench.py                # or: make bench
    .venv/bin/python bench/api_bench.py --seconds 3 --rounds 1 --subscribers 200

Ctrl-C stops it; both servers are stopped with it. A measurement, not a test: it prints
figures and asserts nothing. (Not bench/api.py: that name would hide the `api` package.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import asyncpg
import httpx
from api_load import Driver, Load, Run
from api_reference import TABLES
from api_report import TARGET_RATIOS, FanOut, Figures, log_findings, print_report
from fanout import EARN, Tally, enroll_customers, subscribe
from processes import (
    RAISED_RATE_LIMIT,
    cpu_seconds,
    free_port,
    graphql,
    start_server,
    stop,
    wait_healthy,
)
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.engine import URL, make_url

from api.auth import Role, TokenIssuer

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1/bench_api"
STORE = "B1"
LINES = [
    {"sku": "SKU-1", "category": "grocery", "quantity": 2, "unitPrice": "12.75"},
    {"sku": "SKU-2", "category": "beauty", "quantity": 1, "unitPrice": "5.30"},
]
EARN_POINTS = """mutation($input: EarnPointsInput!) { earnPoints(input: $input) {
  transaction { id kind points balanceAfter createdAt }
  customer { id balance balanceVersion }
  userErrors { code message field } } }"""
# What a finding in a server's log comes from, where the benchmark itself causes it.
EXPLAINED = {
    "traceback: starlette.requests.ClientDisconnect": " (the load generator closes its "
    "connections at the end of each run, requests still in flight)",
}
LOOKUP = "query($id: ID!) { customer(lookup: {id: $id}) { id balance balanceVersion } }"
# Wide enough for the table when the output goes to a file.
console = Console(width=None if sys.stdout.isatty() else 140)


@dataclass(frozen=True)
class Side:
    """A server under load: where it answers, its process, and its form of each request."""

    name: str
    base: str
    pid: int
    loads: dict[str, Load]


def project_loads(token: str) -> dict[str, Load]:
    sale = {"customerId": "@CUSTOMER@", "idempotencyKey": "@KEY@", "storeId": STORE}
    earn = {"query": EARN_POINTS, "variables": {"input": sale | {"lines": LINES}}}
    lookup = {"query": LOOKUP, "variables": {"id": "@CUSTOMER@"}}
    return {
        "earn": Load("/graphql", json.dumps(earn), token, '"userErrors":[]'),
        "balance": Load("/graphql", json.dumps(lookup), token, '"balanceVersion":'),
        "trivial": Load(
            "/graphql", json.dumps({"query": "{ __typename }"}), token, '"__typename":"Query"'
        ),
    }


def reference_loads(token: str) -> dict[str, Load]:
    sale = {"customerId": "@CUSTOMER@", "idempotencyKey": "@KEY@", "storeId": STORE}
    return {
        "earn": Load("/earn", json.dumps(sale | {"lines": LINES}), token, '"userErrors":[]'),
        "balance": Load(
            "/balance", json.dumps({"customerId": "@CUSTOMER@"}), token, '"balanceVersion":'
        ),
        "trivial": Load("/trivial", "{}", None, '"__typename":"Query"'),
    }


def mint(secret: str, role: Role) -> str:
    stores = () if role is Role.ADMIN else (STORE,)
    return TokenIssuer(secret).mint(
        role=role,
        staff_id="bench",
        stores=stores,
        terminal_id="T1",
        now=datetime.now(UTC),
        ttl=timedelta(hours=12),
    )


async def connect(url: URL, database: str | None = None) -> asyncpg.Connection:
    return await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=database or url.database,
    )


async def fresh_database(url: URL) -> None:
    name = url.database or ""
    if not name.startswith("bench"):
        raise SystemExit(
            f"the benchmark drops and creates its database: {name!r} must start with bench"
        )
    admin = await connect(url, "postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def run_sql(url: URL, sql: str) -> None:
    connection = await connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def start_reference(
    url: URL, port: int, redis_url: str, secret: str, log: IO[bytes]
) -> subprocess.Popen[bytes]:
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    script = Path(__file__).with_name("api_reference.py")
    command = [sys.executable, str(script), "--port", str(port), "--dsn", dsn]
    return subprocess.Popen(
        [*command, "--redis-url", redis_url],
        env=os.environ | {"LOYALTY_AUTH_SECRET": secret},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def progress_bar() -> Progress:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    return Progress(*columns, TimeElapsedColumn(), console=console)


async def seed(base: str, admin_token: str, count: int, url: URL) -> list[str]:
    """The store and the customers, enrolled through the API; then copied to the reference."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
        with progress_bar() as progress:
            task = progress.add_task("enrolling customers", total=count)
            customers = await enroll_customers(http, count, lambda: progress.advance(task))
    await run_sql(
        url,
        """INSERT INTO reference.stores SELECT id, name FROM stores;
        INSERT INTO reference.customers
            SELECT id, balance, balance_version, lifetime_earned FROM customers;
        ANALYZE""",
    )
    return customers


async def measure(
    driver: Driver, sides: list[Side], arguments: argparse.Namespace
) -> dict[str, dict[str, Figures]]:
    """Every request kind, project then reference, round after round; the medians."""
    kinds = list(TARGET_RATIOS)
    runs: dict[str, dict[str, list[Run]]] = {k: {s.name: [] for s in sides} for k in kinds}
    total = len(kinds) * len(sides) * (arguments.rounds + (arguments.warmup > 0))
    with progress_bar() as progress:
        task = progress.add_task("load runs", total=total)
        if arguments.warmup > 0:
            for kind in kinds:
                for side in sides:
                    progress.update(task, description=f"warm-up: {side.name} {kind}")
                    await driver.run(side.base, side.loads[kind], nonce(), arguments.warmup)
                    progress.advance(task)
        for number in range(arguments.rounds):
            for kind in kinds:
                for side in sides:
                    progress.update(task, description=f"round {number + 1}: {side.name} {kind}")
                    before = cpu_seconds(side.pid)
                    run = await driver.run(side.base, side.loads[kind], nonce(), arguments.seconds)
                    runs[kind][side.name].append(
                        replace(run, cpu_seconds=cpu_seconds(side.pid) - before)
                    )
                    progress.advance(task)
    return {kind: {name: Figures.of(r) for name, r in by.items()} for kind, by in runs.items()}


def nonce() -> str:
    return secrets.token_hex(4)


async def fan_out(
    base: str, token: str, customer: str, server_pid: int, arguments: argparse.Namespace
) -> FanOut:
    """N subscriptions to one customer's balance; one change at a time, each awaited."""
    tally, subscribers = Tally(), arguments.subscribers
    ws_url = base.replace("http://", "ws://") + "/graphql"
    with progress_bar() as progress:
        opening = progress.add_task("opening subscriptions", total=subscribers)
        subscribed = await subscribe(
            ws_url,
            token,
            [customer] * subscribers,
            arguments.per_connection,
            tally,
            server_pid,
            lambda opened: progress.advance(opening, opened),
        )
        changes = progress.add_task("changes fanned out", total=arguments.changes)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
            for number in range(arguments.changes):
                await graphql(http, EARN, {"id": customer, "key": f"fan-{nonce()}"})
                await delivered(tally, subscribers * (number + 1))
                progress.advance(changes)
                await asyncio.sleep(0.5)
        await subscribed.close()
    return FanOut(
        subscribers,
        arguments.per_connection,
        arguments.changes,
        tally,
        subscribed.memory,
        subscribed.seconds,
    )


async def delivered(tally: Tally, expected: int, seconds: float = 30.0) -> None:
    """Until `expected` changes have arrived (or were seen missing), or `seconds` pass."""
    # fanout.listen counts into the tally; looking every 10 ms needs no hook in it, and the
    # latencies are taken at receipt, not here.
    for _ in range(int(seconds * 100)):
        if tally.delivered + tally.lost >= expected:
            return
        await asyncio.sleep(0.01)


async def run(arguments: argparse.Namespace) -> None:
    url = make_url(arguments.database_url)
    logs = Path(tempfile.mkdtemp(prefix="bench-api-"))
    console.print(f"database {url.database}: dropped, created and migrated; server logs in {logs}")
    await fresh_database(url)
    with (
        (logs / "project.log").open("wb") as project_log,
        (logs / "reference.log").open("wb") as reference_log,
    ):
        results, fan, driver = await run_servers(arguments, url, project_log, reference_log)
    findings = {
        name: log_findings((logs / f"{name}.log").read_text()) for name in ("project", "reference")
    }
    print_report(console, results, fan, notes(arguments, driver, findings))


async def run_servers(
    arguments: argparse.Namespace, url: URL, project_log: IO[bytes], reference_log: IO[bytes]
) -> tuple[dict[str, dict[str, Figures]], FanOut | None, Driver]:
    """Both servers started, seeded, measured and stopped (whatever happens)."""
    secret = secrets.token_hex(32)
    project_port, reference_port = free_port(), free_port()
    env = {
        "LOYALTY_AUTH_SECRET": secret,
        "LOYALTY_REDIS_URL": arguments.redis_url,
        "LOYALTY_REDIS_PREFIX": "bench-api",
    }
    project = start_server(
        url.render_as_string(hide_password=False), project_port, env, project_log
    )
    reference = None
    try:
        await run_sql(url, TABLES)
        reference = start_reference(url, reference_port, arguments.redis_url, secret, reference_log)
        project_base = f"http://127.0.0.1:{project_port}"
        reference_base = f"http://127.0.0.1:{reference_port}"
        await wait_healthy(project_base, project)
        await wait_healthy(reference_base, reference)
        customers = await seed(project_base, mint(secret, Role.ADMIN), arguments.customers, url)
        token = mint(secret, Role.CASHIER)
        sides = [
            Side("project", project_base, project.pid, project_loads(token)),
            Side("reference", reference_base, reference.pid, reference_loads(token)),
        ]
        with tempfile.TemporaryDirectory() as directory:
            listed = Path(directory) / "customers.txt"
            listed.write_text("\n".join(customers) + "\n")
            driver = Driver(
                arguments.concurrency, listed, customers, wrk_threads=arguments.wrk_threads
            )
            if arguments.no_wrk:
                driver.wrk = None
            results = await measure(driver, sides, arguments)
        fan = None
        if arguments.subscribers:
            fan = await fan_out(project_base, token, customers[0], project.pid, arguments)
    finally:
        stop(project)
        if reference is not None:
            stop(reference)
    return results, fan, driver


def notes(
    arguments: argparse.Namespace, driver: Driver, findings: dict[str, Counter[str]]
) -> list[str]:
    found = [
        f"{name} log: {count:,} x {finding}{EXPLAINED.get(finding, '')}"
        for name, counted in findings.items()
        for finding, count in counted.most_common()
    ]
    return [
        f"load: {driver.name(arguments.seconds)}; rounds: {arguments.rounds}, project and "
        f"reference alternating, after a {arguments.warmup} s warm-up of each",
        f"{arguments.customers:,} customers; earn: 2 lines, random customer, fresh "
        "idempotency key each; CPU ms: the server process's user + system time per request",
        "project: one `loyalty serve` process, PostgreSQL, Redis (pub/sub and rate limits); "
        f"rate limits raised to {RAISED_RATE_LIMIT} per token and address (the limiter "
        "still runs on every request, it never refuses)",
        "reference: bench/api_reference.py, one uvicorn process, same PostgreSQL and Redis, "
        "pool of 10 as the project's",
        "server, database, Redis and load generator share this machine's cores; fan-out "
        "latency: from the change's createdAt (server clock) to receipt by the client here",
        *(found or ["server logs: no warning, error or traceback"]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default=DEFAULT_URL, help="dropped and created: bench* only"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32, help="connections of the load")
    parser.add_argument("--seconds", type=int, default=10, help="of each timed run")
    parser.add_argument("--rounds", type=int, default=3, help="of alternating runs (medians)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of each, untimed; 0: none")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--no-wrk", action="store_true", help="the httpx client even with wrk")
    parser.add_argument(
        "--subscribers", type=int, default=2000, help="of one customer (0: no fan-out)"
    )
    parser.add_argument("--per-connection", type=int, default=10, help="subscriptions each")
    parser.add_argument("--changes", type=int, default=5, help="changes fanned out, one by one")
    try:
        asyncio.run(run(parser.parse_args()))
    except KeyboardInterrupt:
        sys.stdout.write("Stopped; both servers stopped.\n")
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
