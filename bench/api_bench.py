"""Benchmark (issue 13): the API against a plain Starlette + asyncpg reference, side by side.

Creates a fresh PostgreSQL database (dropped first if there: its name must start with
`bench`), migrates it with the project's Alembic migrations, starts the real server
(`loyalty serve`, one process, Redis for pub/sub and the rate limiter, the rate limits
raised so that the limiter never refuses) and the plain reference (bench/api_reference.py
under uvicorn, one process, on its own tables in the schema `reference` of the same
database, the same Redis). Seeds both with the same store and customers. Opens N
subscriptions to ONE customer's balance and fans changes out to them one by one: the
latency from each change (the transaction's createdAt, stamped by the server) to each
subscriber receiving it, and the server's memory per open subscription. Then drives both
servers with the same load, alternating project and reference so that the machine's noise
falls on both, for: earnPoints with two lines (a fresh idempotency key each, random
customers), a balance lookup by customer id, and `{ __typename }` with a token (the
reference: constant JSON). Prints the medians of the rounds (throughput, p50, p99, server
CPU per request read from /proc) and the ratio project / reference against the issue's
targets, with the fan-out's figures against theirs.

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
import secrets
import signal
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

import httpx
from api_load import Driver, Load, Run
from api_reference import TABLES
from api_report import TARGET_RATIOS, FanOut, Figures, log_findings, print_report
from api_setup import (
    fresh_database,
    mint,
    project_loads,
    reference_loads,
    run_sql,
    seed,
    start_reference,
)
from fanout import EARN, Tally, subscribe
from processes import (
    RAISED_RATE_LIMIT,
    cpu_seconds,
    free_port,
    graphql,
    settled,
    start_server,
    stop,
    wait_healthy,
)
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.engine import URL, make_url

from api.auth import Role

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1/bench_api"
# What a finding in a server's log comes from, where the benchmark itself causes it.
EXPLAINED = {
    "traceback: starlette.requests.ClientDisconnect": " (the load generator closes its "
    "connections at the end of each run, requests still in flight)",
}
FALLBACK_CAVEAT = (
    "[red]the load came from this process, which takes CPU from the servers: the slower "
    "server loses least, so the ratios look better than they are; install wrk[/]"
)
# Wide enough for the table when the output goes to a file.
console = Console(width=None if sys.stdout.isatty() else 140)


@dataclass(frozen=True)
class Side:
    """A server under load: where it answers, its process, and its form of each request."""

    name: str
    base: str
    pid: int
    loads: dict[str, Load]


def progress_bar() -> Progress:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    return Progress(*columns, TimeElapsedColumn(), console=console)


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
                    await settled(side.pid)
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
                    # Requests in flight when the load stopped are finished before the other
                    # side's run starts.
                    await settled(side.pid)
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
        cpu = 0.0
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
            for number in range(arguments.changes):
                before = cpu_seconds(server_pid)
                await graphql(http, EARN, {"id": customer, "key": f"fan-{nonce()}"})
                await delivered(tally, subscribers * (number + 1))
                cpu += cpu_seconds(server_pid) - before
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
        cpu,
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
    # SIGTERM stops it as Ctrl-C does: the servers are stopped on the way out.
    main_task = asyncio.current_task()
    if main_task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    url = make_url(arguments.database_url)
    logs = Path(tempfile.mkdtemp(prefix="bench-api-"))
    console.print(f"database {url.database}: dropped and created anew; server logs in {logs}")
    await fresh_database(url)
    with (
        (logs / "project.log").open("wb") as project_log,
        (logs / "reference.log").open("wb") as reference_log,
    ):
        results, fan, driver = await run_servers(arguments, url, project_log, reference_log)
    findings = {
        name: log_findings((logs / f"{name}.log").read_text()) for name in ("project", "reference")
    }
    print_report(console, results, fan, notes(arguments, driver, results, findings))


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
        with progress_bar() as progress:
            task = progress.add_task("enrolling customers", total=arguments.customers)
            admin = mint(secret, Role.ADMIN)
            customers = await seed(
                project_base, admin, arguments.customers, url, lambda: progress.advance(task)
            )
        token = mint(secret, Role.CASHIER)
        sides = [
            Side("project", project_base, project.pid, project_loads(token)),
            Side("reference", reference_base, reference.pid, reference_loads(token)),
        ]
        # The fan-out first: the server's memory per subscription is read on a heap that a
        # load has not grown (Python reuses what it freed, and would hide the growth).
        fan = None
        if arguments.subscribers:
            fan = await fan_out(project_base, token, customers[0], project.pid, arguments)
        with tempfile.TemporaryDirectory() as directory:
            listed = Path(directory) / "customers.txt"
            listed.write_text("\n".join(customers) + "\n")
            driver = Driver(
                arguments.concurrency, listed, customers, wrk_threads=arguments.wrk_threads
            )
            if arguments.no_wrk:
                driver.wrk = None
            results = await measure(driver, sides, arguments)
    finally:
        stop(project)
        if reference is not None:
            stop(reference)
    return results, fan, driver


def busiest(results: dict[str, dict[str, Figures]]) -> float:
    shares = (figures.client_share for sides in results.values() for figures in sides.values())
    return max((share for share in shares if share is not None), default=0.0)


def notes(
    arguments: argparse.Namespace,
    driver: Driver,
    results: dict[str, dict[str, Figures]],
    findings: dict[str, Counter[str]],
) -> list[str]:
    found = [
        f"{name} log: {count:,} x {escape(finding)}{EXPLAINED.get(finding, '')}"
        for name, counted in findings.items()
        for finding, count in counted.most_common()
    ]
    warmup = f"a {arguments.warmup} s warm-up of each" if arguments.warmup else "no warm-up"
    client = [FALLBACK_CAVEAT]
    if driver.wrk:
        client = [f"wrk's own CPU: at most {busiest(results):.0%} of one core in a run"]
    return [
        f"load: {driver.name(arguments.seconds)}; rounds: {arguments.rounds}, project and "
        f"reference alternating, after {warmup}",
        *client,
        f"{arguments.customers:,} customers; earn: 2 lines, random customer, fresh "
        "idempotency key each; CPU ms: the server process's user + system time per request",
        "project: one `loyalty serve` process, PostgreSQL, Redis (pub/sub and rate limits); "
        f"rate limits raised to {RAISED_RATE_LIMIT} per token and address (the limiter "
        "still runs on every request, it never refuses)",
        "reference: bench/api_reference.py, one uvicorn process, same PostgreSQL and Redis, "
        "pool of 10 as the project's",
        "server, database, Redis and load generator share this machine's cores",
        "fan-out (run before the load, on the same server): latency from each change's "
        "createdAt (server clock) to receipt by this process; memory: the server's RSS growth "
        "over the open subscriptions; CPU a change: the server's, from the earn sent to its "
        "last delivery, the earn included",
        *(found or ["server logs: no warning, error or traceback"]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--database-url", default=DEFAULT_URL, help="dropped and created: bench* only"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="both use it")
    parser.add_argument("--customers", type=int, default=1000, help="in both")
    parser.add_argument("--concurrency", type=int, default=32, help="connections of the load")
    parser.add_argument("--seconds", type=int, default=10, help="of each timed run")
    parser.add_argument("--rounds", type=int, default=3, help="of alternating runs (medians)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of each, untimed; 0: none")
    parser.add_argument("--wrk-threads", type=int, default=1, help="one is plenty here")
    parser.add_argument("--no-wrk", action="store_true", help="the httpx client even with wrk")
    parser.add_argument(
        "--subscribers", type=int, default=2000, help="of one customer (0: no fan-out)"
    )
    parser.add_argument("--per-connection", type=int, default=10, help="subscriptions each")
    parser.add_argument("--changes", type=int, default=5, help="changes fanned out, one by one")
    try:
        asyncio.run(run(parser.parse_args()))
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.stdout.write("Stopped; both servers stopped.\n")
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
