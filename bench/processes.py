"""What the benchmarks share about the servers they start: a free port, `loyalty serve` on a
migrated database, a process stopped for good, its health awaited, and its resident memory
and CPU time read from /proc (Linux)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import httpx

STOP_SECONDS = 30.0
# The limiter still runs on every request; it is set never to refuse one.
RAISED_RATE_LIMIT = "1000000/minute"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    # The command name (field 2) may hold spaces; the fields after its ')' are fixed.
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    user, system = int(fields[11]), int(fields[12])
    return (user + system) / os.sysconf("SC_CLK_TCK")


async def settled(pid: int, busy: float = 0.1, interval: float = 0.2, most: float = 10.0) -> None:
    """Until the process uses less than `busy` of a core (what a load left it is done), or
    `most` seconds pass."""
    for _ in range(int(most / interval)):
        before = cpu_seconds(pid)
        await asyncio.sleep(interval)
        if cpu_seconds(pid) - before < busy * interval:
            return


def start_server(
    database_url: str,
    port: int,
    env: Mapping[str, str] | None = None,
    log: IO[bytes] | None = None,
) -> subprocess.Popen[bytes]:
    """`loyalty migrate`, then `loyalty serve` (one process) with the rate limits raised;
    their output to `log` when given."""
    settings = {k: v for k, v in os.environ.items() if k != "LOYALTY_AUTH_SECRET"}
    settings |= {
        "LOYALTY_DATABASE_URL": database_url,
        "LOYALTY_LOG_LEVEL": "WARNING",
        "LOYALTY_RATE_LIMIT": RAISED_RATE_LIMIT,
        "LOYALTY_ANONYMOUS_RATE_LIMIT": RAISED_RATE_LIMIT,
    }
    settings |= env or {}
    output: dict[str, Any] = {} if log is None else {"stdout": log, "stderr": subprocess.STDOUT}
    migrate = [sys.executable, "-m", "api.cli", "migrate"]
    subprocess.run(migrate, env=settings, check=True, **output)
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)], env=settings, **output
    )


def stop(process: subprocess.Popen[Any]) -> None:
    """Terminate, wait, and kill what does not stop in time: nothing is left running."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def wait_healthy(base: str, process: subprocess.Popen[Any] | None = None) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        for _ in range(300):
            if process is not None and process.poll() is not None:
                raise SystemExit(f"the server at {base} exited with {process.returncode}")
            try:
                if (await http.get("/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"the server at {base} did not start")


async def graphql(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    if "errors" in body:
        raise SystemExit(f"GraphQL error: {body['errors']}")
    return body["data"]
