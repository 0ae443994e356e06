"""The `loyalty` command as an operator uses it: migrate, seed the demo, serve over real HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

STARTUP_SECONDS = 20


def loyalty(*arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    return {
        **inherited,
        "LOYALTY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "LOYALTY_PORT": str(free_port()),
        # A week of demo history is enough to see it counted; make run writes three months.
        "LOYALTY_DEMO_HISTORY_DAYS": "7",
    }


@pytest.fixture
def served(environment: dict[str, str]) -> Iterator[str]:
    loyalty("migrate", env=environment)
    loyalty("seed-demo", env=environment)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, server)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def wait_until_healthy(base: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server exited: {server.stderr and server.stderr.read()}")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not become healthy")


def post(
    base: str, query: str, token: str | None = None, variables: dict[str, object] | None = None
) -> dict[str, object]:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    document = {"query": query, "variables": variables}
    request = urllib.request.Request(f"{base}/graphql", json.dumps(document).encode(), headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        body: dict[str, object] = json.loads(response.read())
        return body


def test_seed_demo_fills_an_empty_database_once_and_prints_tokens_to_try_it(
    environment: dict[str, str],
) -> None:
    loyalty("migrate", env=environment)
    first = loyalty("seed-demo", env=environment)
    second = loyalty("seed-demo", env=environment)

    assert "Demo programme ready" in first.stdout
    assert "/graphql" in first.stdout
    assert "no demo seeded" in second.stdout
    for output in (first.stdout, second.stdout):
        for role in ("cashier", "display", "manager", "admin"):
            assert f"  {role} (" in output


def test_loyalty_token_refuses_a_cashier_without_a_store(environment: dict[str, str]) -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "api.cli", "token", "--role", "cashier", "--staff", "bob"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert refused.returncode == 2
    assert "needs at least one store" in refused.stderr


def test_the_served_demo_answers_a_minted_token_and_refuses_no_token(
    served: str, environment: dict[str, str]
) -> None:
    token = loyalty(
        "token",
        "--role",
        "cashier",
        "--store",
        "S001",
        "--terminal",
        "T1",
        "--staff",
        "cli",
        "--ttl",
        "5m",
        env=environment,
    ).stdout.strip()
    query = '{ customer(lookup: {email: "ada@example.com"}) { name balance } stores { id } }'

    body = post(served, query, token)
    anonymous = post(served, query)

    assert body == {
        "data": {
            "customer": {"name": "Ada Lovelace", "balance": 0},
            "stores": [{"id": "S001"}, {"id": "S002"}, {"id": "S003"}],
        }
    }
    assert anonymous["data"] is None
    assert anonymous["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}  # type: ignore[index]
    with urllib.request.urlopen(
        urllib.request.Request(f"{served}/graphql", headers={"accept": "text/html"}), timeout=5
    ) as page:
        assert "graphiql" in page.read().decode().lower()


@pytest.mark.parametrize("secret", [None, "too-short"])
def test_production_refuses_to_start_without_a_long_secret(
    environment: dict[str, str], secret: str | None
) -> None:
    env = {**environment, "LOYALTY_ENV": "production"}
    env.pop("LOYALTY_AUTH_SECRET", None)
    if secret is not None:
        env["LOYALTY_AUTH_SECRET"] = secret
    refused = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert refused.returncode == 2
    assert "LOYALTY_AUTH_SECRET of at least 32 characters" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_the_served_demo_has_history_on_its_dashboard(
    served: str, environment: dict[str, str]
) -> None:
    token = loyalty("token", "--role", "admin", "--staff", "cli", env=environment).stdout.strip()
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    week = {"from": (today - timedelta(days=8)).isoformat(), "until": today.isoformat()}
    query = (
        "query($r: AnalyticsRange!) { analytics(range: $r) "
        "{ totals { sales activeCustomers } campaigns { holdoutCustomers } } }"
    )

    body = post(served, query, token, {"r": week})

    totals = body["data"]["analytics"]["totals"]  # type: ignore[index]
    assert totals["sales"] > 50
    assert totals["activeCustomers"] > 10
    assert body["data"]["analytics"]["campaigns"][0]["holdoutCustomers"] > 0  # type: ignore[index]
    with urllib.request.urlopen(f"{served}/dashboard", timeout=5) as page:
        assert "Loyalty analytics" in page.read().decode()
