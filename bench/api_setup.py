"""The setting of bench/api_bench.py: its fresh database, the reference's process, the same
store and customers in both, and each request as each side is sent it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import asyncpg
import httpx
from api_load import Load
from fanout import enroll_customers
from sqlalchemy.engine import URL

from api.auth import Role, TokenIssuer

STORE = "B1"
LINES = [
    {"sku": "SKU-1", "category": "grocery", "quantity": 2, "unitPrice": "12.75"},
    {"sku": "SKU-2", "category": "beauty", "quantity": 1, "unitPrice": "5.30"},
]
EARN_POINTS = """mutation($input: EarnPointsInput!) { earnPoints(input: $input) {
  transaction { id kind points balanceAfter createdAt }
  customer { id balance balanceVersion }
  userErrors { code message field } } }"""
LOOKUP = "query($id: ID!) { customer(lookup: {id: $id}) { id balance balanceVersion } }"


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


async def seed(
    base: str, admin_token: str, count: int, url: URL, enrolled: Callable[[], None]
) -> list[str]:
    """The store and the customers, enrolled through the API; then copied to the reference."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
        customers = await enroll_customers(http, count, enrolled)
    await run_sql(
        url,
        """INSERT INTO reference.stores SELECT id, name FROM stores;
        INSERT INTO reference.customers
            SELECT id, balance, balance_version, lifetime_earned FROM customers;
        ANALYZE""",
    )
    return customers
