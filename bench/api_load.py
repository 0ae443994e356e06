"""The load of bench/api_bench.py: one kind of request sent for a while over N connections,
by wrk with bench/api_bench.lua when wrk is installed (it costs the measured cores little),
else by an asyncio + httpx client (which costs them a lot more); and what came back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import resource
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
from fanout import percentile

LUA = Path(__file__).with_name("api_bench.lua")
WRK_TIMEOUT = "30s"


@dataclass(frozen=True)
class Load:
    """One kind of request to one server, POSTed as JSON. In the body, @CUSTOMER@ becomes
    a random customer's id and @KEY@ a fresh idempotency key, per request."""

    path: str
    body: str
    token: str | None
    expect: str  # a text every good answer contains

    def filled(self, customer: str, key: str) -> str:
        return self.body.replace("@CUSTOMER@", customer).replace("@KEY@", key)

    def good(self, status: int, answer: str) -> bool:
        """What the Lua script checks too: 200, no GraphQL errors, the expected text."""
        return status == 200 and '"errors"' not in answer and self.expect in answer


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int = 0
    sample: str = ""  # one failed answer, to show
    cpu_seconds: float = 0.0  # the server's, during the run
    client_cpu_seconds: float | None = None  # wrk's own; None: not known

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def client_share(self) -> float | None:
        """The share of one core the load generator used, when known."""
        if self.client_cpu_seconds is None or not self.seconds:
            return None
        return self.client_cpu_seconds / self.seconds

    @property
    def cpu_ms_each(self) -> float:
        return self.cpu_seconds / self.requests * 1000 if self.requests else float("nan")


def parse_wrk(output: str) -> Run:
    """The figures of the `WRK {json}` and `WRK-SAMPLE` lines api_bench.lua writes."""
    figures: dict[str, int] | None = None
    sample = ""
    for line in output.splitlines():
        if line.startswith("WRK "):
            figures = json.loads(line.removeprefix("WRK "))
        elif line.startswith("WRK-SAMPLE "):
            sample = line.removeprefix("WRK-SAMPLE ").strip()
    if figures is None:
        raise ValueError(f"no figures in wrk's output: {output[-500:]!r}")
    errors = figures["socket_errors"]
    return Run(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        failed=figures["failed"] + errors,
        sample=sample or (f"{errors} socket errors or timeouts" if errors else ""),
    )


def children_cpu_seconds() -> float:
    """CPU time of this process's children that have ended: while a load runs, wrk's alone
    (the servers end after the last run)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


@dataclass
class Driver:
    """Sends a load over `concurrency` connections, to random customers."""

    concurrency: int
    customers_file: Path
    customers: list[str] = field(default_factory=list)
    wrk: str | None = field(default_factory=lambda: shutil.which("wrk"))
    wrk_threads: int = 1

    def name(self, seconds: int) -> str:
        if self.wrk:
            return f"wrk -t{self.wrk_threads} -c{self.concurrency} -d{seconds}s (LuaJIT script)"
        return f"asyncio + httpx, {self.concurrency} connections, {seconds} s (not wrk)"

    async def run(self, base: str, load: Load, nonce: str, seconds: int) -> Run:
        if self.wrk:
            return await self._wrk(self.wrk, base, load, nonce, seconds)
        return await self._httpx(base, load, nonce, seconds)

    async def _wrk(self, wrk: str, base: str, load: Load, nonce: str, seconds: int) -> Run:
        command = [
            wrk,
            f"-t{self.wrk_threads}",
            f"-c{self.concurrency}",
            f"-d{seconds}s",
            f"--timeout={WRK_TIMEOUT}",
            f"-s{LUA}",
            base,
            "--",
            load.path,
            load.token or "",
            load.body,
            str(self.customers_file),
            nonce,
            load.expect,
        ]
        children_before = children_cpu_seconds()
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        try:
            output, errors = await process.communicate()
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if process.returncode:
            raise SystemExit(f"wrk failed ({process.returncode}): {errors.decode()[-500:]}")
        run = parse_wrk(output.decode())
        return replace(run, client_cpu_seconds=children_cpu_seconds() - children_before)

    async def _httpx(self, base: str, load: Load, nonce: str, seconds: int) -> Run:
        latencies: list[float] = []
        failures: list[str] = []
        headers = {"Content-Type": "application/json"}
        if load.token:
            headers["Authorization"] = f"Bearer {load.token}"
        limits = httpx.Limits(max_connections=self.concurrency)
        deadline = time.monotonic() + seconds

        async def connection(number: int, http: httpx.AsyncClient) -> None:
            sent = 0
            while time.monotonic() < deadline:
                sent += 1
                customer = random.choice(self.customers)
                body = load.filled(customer, f"{nonce}-{number}-{sent}")
                started = time.perf_counter()
                response = await http.post(load.path, content=body)
                latencies.append(time.perf_counter() - started)
                if not load.good(response.status_code, response.text):
                    failures.append(f"{response.status_code} {response.text[:300]}")

        async with httpx.AsyncClient(
            base_url=base, headers=headers, limits=limits, timeout=30
        ) as http:
            started = time.monotonic()
            await asyncio.gather(*(connection(n, http) for n in range(self.concurrency)))
            elapsed = time.monotonic() - started
        return Run(
            requests=len(latencies),
            seconds=elapsed,
            p50_ms=percentile(latencies, 0.5) * 1000,
            p99_ms=percentile(latencies, 0.99) * 1000,
            failed=len(failures),
            sample=failures[0] if failures else "",
        )
