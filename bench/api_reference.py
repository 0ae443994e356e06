"""The plain reference of bench/api_bench.py: Starlette + asyncpg written by hand, on its
own tables (schema `reference`), what the project's API is measured against.

POST /earn does the minimal correct earn in ONE transaction: the idempotency key claimed
(or its stored answer returned), the customer's row locked (SELECT ... FOR UPDATE), the
balance updated, a journal entry with two lines, a sale with its lines, an outbox row and
the answer stored under the key; then, after the commit, a Redis PUBLISH. A relay would
mark the outbox rows published in batches; none runs here. POST /balance reads one
customer's balance by id; POST /trivial answers constant JSON. /earn and /balance verify
the bearer token (HS256, the project's issuer and audience, LOYALTY_AUTH_SECRET), as a
real till endpoint must; /trivial does not. Answers are shaped like the GraphQL ones.

    .venv/bin/python bench/api_reference.py --port 8001 \\
        --dsn postgresql://postgres@127.0.0.1/bench_api --redis-url redis://127.0.0.1:6379/0

bench/api_bench.py creates the tables (TABLES) and starts it; one process, like the server.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import asyncpg
import jwt
import uvicorn
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

TABLES = """
DROP SCHEMA IF EXISTS reference CASCADE;
CREATE SCHEMA reference;
CREATE TABLE reference.stores (id text PRIMARY KEY, name text NOT NULL);
CREATE TABLE reference.customers (
    id text PRIMARY KEY,
    balance integer NOT NULL CHECK (balance >= 0),
    balance_version integer NOT NULL,
    lifetime_earned integer NOT NULL
);
CREATE TABLE reference.idempotency_keys (
    key text PRIMARY KEY,
    fingerprint text NOT NULL,
    answer text,
    created_at timestamptz NOT NULL
);
CREATE TABLE reference.journal_entries (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,
    customer_id text NOT NULL REFERENCES reference.customers,
    store_id text NOT NULL REFERENCES reference.stores,
    points integer NOT NULL,
    balance_after integer NOT NULL,
    idempotency_key text NOT NULL,
    recorded_by_staff text NOT NULL,
    recorded_by_terminal text,
    created_at timestamptz NOT NULL
);
CREATE INDEX ON reference.journal_entries (customer_id, id);
CREATE TABLE reference.journal_lines (
    id bigserial PRIMARY KEY,
    entry_id bigint NOT NULL REFERENCES reference.journal_entries,
    account text NOT NULL,
    points integer NOT NULL
);
CREATE INDEX ON reference.journal_lines (entry_id);
CREATE TABLE reference.sales (
    id bigserial PRIMARY KEY,
    journal_entry_id bigint NOT NULL UNIQUE REFERENCES reference.journal_entries,
    customer_id text NOT NULL,
    store_id text NOT NULL,
    total numeric(14, 2) NOT NULL,
    occurred_at timestamptz NOT NULL
);
CREATE TABLE reference.sale_lines (
    id bigserial PRIMARY KEY,
    sale_id bigint NOT NULL REFERENCES reference.sales,
    sku text NOT NULL,
    category text NOT NULL,
    quantity integer NOT NULL,
    unit_price numeric(14, 2) NOT NULL,
    amount numeric(14, 2) NOT NULL
);
CREATE INDEX ON reference.sale_lines (sale_id);
CREATE TABLE reference.outbox (
    id bigserial PRIMARY KEY,
    entry_id bigint NOT NULL REFERENCES reference.journal_entries,
    created_at timestamptz NOT NULL,
    published_at timestamptz
);
"""

CLAIM = """INSERT INTO reference.idempotency_keys (key, fingerprint, created_at)
    VALUES ($1, $2, now()) ON CONFLICT (key) DO NOTHING RETURNING key"""
STORED = "SELECT fingerprint, answer FROM reference.idempotency_keys WHERE key = $1"
LOCK = """SELECT balance, balance_version FROM reference.customers WHERE id = $1
    FOR UPDATE"""
UPDATE = """UPDATE reference.customers SET balance = $2, balance_version = $3,
    lifetime_earned = lifetime_earned + $4 WHERE id = $1"""
ENTRY = """INSERT INTO reference.journal_entries (kind, customer_id, store_id, points,
    balance_after, idempotency_key, recorded_by_staff, recorded_by_terminal, created_at)
    VALUES ('EARN', $1, $2, $3, $4, $5, $6, $7, now()) RETURNING id, created_at"""
LINES = """INSERT INTO reference.journal_lines (entry_id, account, points)
    VALUES ($1, $2, $3), ($1, 'programme:points-issued', -$3)"""
SALE = """INSERT INTO reference.sales (journal_entry_id, customer_id, store_id, total,
    occurred_at) VALUES ($1, $2, $3, $4, $5) RETURNING id"""
SALE_LINES = """INSERT INTO reference.sale_lines (sale_id, sku, category, quantity,
    unit_price, amount)
    SELECT $1, sku, category, quantity, price, quantity * price
    FROM unnest($2::text[], $3::text[], $4::integer[], $5::numeric[])
        AS line (sku, category, quantity, price)"""
OUTBOX = "INSERT INTO reference.outbox (entry_id, created_at) VALUES ($1, $2)"
ANSWER = "UPDATE reference.idempotency_keys SET answer = $2 WHERE key = $1"
BALANCE = "SELECT id, balance, balance_version FROM reference.customers WHERE id = $1"
TRIVIAL = {"data": {"__typename": "Query"}}
BASE_RATE = Decimal(1)  # points per 1.00, as the project's default


def caller(request: Request) -> dict[str, Any] | None:
    """The token's claims; None when it is missing or does not verify."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            request.app.state.secret,
            algorithms=["HS256"],
            audience="loyalty-api",
            issuer="loyalty",
        )
    except jwt.InvalidTokenError:
        return None
    return claims


def unauthenticated() -> JSONResponse:
    refusal = {"message": "authentication required", "extensions": {"code": "UNAUTHENTICATED"}}
    return JSONResponse({"errors": [refusal]}, status_code=401)


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def user_error(code: str, message: str) -> str:
    refusal = {"code": code, "message": message, "field": None}
    return compact({"data": {"earnPoints": {"transaction": None, "userErrors": [refusal]}}})


async def earn(request: Request) -> Response:
    claims = caller(request)
    if claims is None:
        return unauthenticated()
    asked = await request.json()
    if "*" not in claims["stores"] and asked["storeId"] not in claims["stores"]:
        return Response(user_error("FORBIDDEN", "not your store"), media_type="application/json")
    fingerprint = hashlib.sha256(compact(asked).encode()).hexdigest()
    async with request.app.state.pool.acquire() as connection, connection.transaction():
        if await connection.fetchval(CLAIM, asked["idempotencyKey"], fingerprint) is None:
            answer = await replay(connection, asked["idempotencyKey"], fingerprint)
            return Response(answer, media_type="application/json")
        answer, message = await record(connection, asked, claims)
        await connection.execute(ANSWER, asked["idempotencyKey"], answer)
    if message is not None:
        await request.app.state.redis.publish(f"reference:balance:{asked['customerId']}", message)
    return Response(answer, media_type="application/json")


async def replay(connection: Any, key: str, fingerprint: str) -> str:
    """The answer stored under the key (the first request's transaction has committed: the
    conflicting insert waited for it)."""
    stored = await connection.fetchrow(STORED, key)
    if stored["fingerprint"] != fingerprint:
        return user_error("IDEMPOTENCY_KEY_REUSED", "this key was used for another request")
    return str(stored["answer"])


async def record(
    connection: Any, asked: dict[str, Any], claims: dict[str, Any]
) -> tuple[str, str | None]:
    """The earn's rows, in the open transaction: its answer and the message to publish."""
    customer_id, store_id = asked["customerId"], asked["storeId"]
    lines = asked["lines"]
    prices = [Decimal(line["unitPrice"]) for line in lines]
    quantities = [int(line["quantity"]) for line in lines]
    total = sum((p * q for p, q in zip(prices, quantities, strict=True)), Decimal(0))
    points = int((total * BASE_RATE).to_integral_value(ROUND_FLOOR))
    account = await connection.fetchrow(LOCK, customer_id)
    if account is None:
        return user_error("CUSTOMER_NOT_FOUND", "no such customer"), None
    balance, version = account["balance"] + points, account["balance_version"] + 1
    await connection.execute(UPDATE, customer_id, balance, version, points)
    terminal = claims.get("terminal")
    entry_id, created_at = await connection.fetchrow(
        ENTRY,
        customer_id,
        store_id,
        points,
        balance,
        asked["idempotencyKey"],
        claims["sub"],
        terminal,
    )
    await connection.execute(LINES, entry_id, f"customer:{customer_id}", points)
    sale_id = await connection.fetchval(SALE, entry_id, customer_id, store_id, total, created_at)
    skus = [line["sku"] for line in lines]
    categories = [line["category"] for line in lines]
    await connection.execute(SALE_LINES, sale_id, skus, categories, quantities, prices)
    await connection.execute(OUTBOX, entry_id, created_at)
    transaction = {
        "id": str(entry_id),
        "kind": "EARN",
        "points": points,
        "balanceAfter": balance,
        "createdAt": created_at.isoformat(),
    }
    customer = {"id": customer_id, "balance": balance, "balanceVersion": version}
    answer = {"transaction": transaction, "customer": customer, "userErrors": []}
    message = {"customerId": customer_id, "balanceVersion": version, "transaction": transaction}
    return compact({"data": {"earnPoints": answer}}), compact(message)


async def balance(request: Request) -> Response:
    if caller(request) is None:
        return unauthenticated()
    asked = await request.json()
    row = await request.app.state.pool.fetchrow(BALANCE, asked["customerId"])
    customer = None
    if row is not None:
        customer = {
            "id": row["id"],
            "balance": row["balance"],
            "balanceVersion": row["balance_version"],
        }
    return JSONResponse({"data": {"customer": customer}})


async def trivial(_request: Request) -> Response:
    return JSONResponse(TRIVIAL)


async def health(_request: Request) -> Response:
    return PlainTextResponse("ok")


def create_app(dsn: str, redis_url: str, pool_size: int, secret: str) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.secret = secret
        app.state.pool = await asyncpg.create_pool(dsn, min_size=pool_size, max_size=pool_size)
        app.state.redis = Redis.from_url(redis_url)
        try:
            yield
        finally:
            await app.state.redis.aclose()
            await app.state.pool.close()

    routes = [
        Route("/earn", earn, methods=["POST"]),
        Route("/balance", balance, methods=["POST"]),
        Route("/trivial", trivial, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1/bench_api")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--pool-size", type=int, default=10, help="as LOYALTY_DATABASE_POOL_SIZE")
    arguments = parser.parse_args()
    secret = os.environ.get("LOYALTY_AUTH_SECRET")
    if not secret:
        raise SystemExit("set LOYALTY_AUTH_SECRET: the key the tokens are signed with")
    app = create_app(arguments.dsn, arguments.redis_url, arguments.pool_size, secret)
    uvicorn.run(app, host="127.0.0.1", port=arguments.port, log_level="warning")


if __name__ == "__main__":
    main()
