"""Database.first_row: a read of one row by a Core SELECT built once, run by asyncpg itself on
PostgreSQL and by SQLAlchemy on SQLite, gives what SQLAlchemy's own result gives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.engine import make_url

from persistence.base import table_of
from persistence.database import Database
from persistence.models import CustomerRow, EarningRuleRow

RULES = table_of(EarningRuleRow)
RULE_BY_ID = select(RULES).where(RULES.c.id == bindparam("rule"))
CUSTOMERS = table_of(CustomerRow)
CUSTOMER_BY_EMAIL = select(CUSTOMERS).where(CUSTOMERS.c.email == bindparam("email"))
MOMENT = datetime(2026, 12, 7, 9, 30, 15, 250_000, tzinfo=UTC)


def rule(rule_id: str, **values: Any) -> dict[str, Any]:
    return {
        "id": rule_id,
        "version": 1,
        "is_current": True,
        "name": "Double on beauty",
        "kind": "MULTIPLIER",
        "timezone": "Europe/London",
        "active": True,
        "created_at": MOMENT,
        **values,
    }


async def as_sqlalchemy_reads(
    database: Database, statement: Select[Any], values: dict[str, Any]
) -> dict[str, Any] | None:
    async with database.engine.connect() as connection:
        row = (await connection.execute(statement, values)).mappings().first()
    return None if row is None else dict(row)


async def test_a_row_reads_as_sqlalchemy_reads_it(database: Database) -> None:
    full = rule(
        "full", rate=Decimal("1.5000"), starts_at=MOMENT, min_spend=Decimal("0.01"), store_ids="S1"
    )
    empty = rule("empty", rate=None, starts_at=None, min_spend=None, store_ids=None)
    async with database.write_sessions() as session, session.begin():
        await session.execute(RULES.insert(), [full, empty])

    for rule_id in ("full", "empty", "none"):
        read = await database.first_row(RULE_BY_ID, {"rule": rule_id})
        expected = await as_sqlalchemy_reads(database, RULE_BY_ID, {"rule": rule_id})
        assert (None if read is None else dict(read)) == expected

    read = await database.first_row(RULE_BY_ID, {"rule": "full"})
    assert read is not None
    assert read["rate"] == Decimal("1.5")
    assert isinstance(read["rate"], Decimal)
    assert read["starts_at"] == MOMENT
    assert read["starts_at"].tzinfo is not None


async def test_a_customer_reads_as_sqlalchemy_reads_it(database: Database) -> None:
    customer = {
        "id": "c-1",
        "email": "ada@example.com",
        "name": "Ada",
        "balance": 120,
        "balance_version": 3,
        "lifetime_earned": 150,
        "enrolled_at": MOMENT,
    }
    async with database.write_sessions() as session, session.begin():
        await session.execute(CUSTOMERS.insert(), [customer])

    values = {"email": "ada@example.com"}
    read = await database.first_row(CUSTOMER_BY_EMAIL, values)

    assert read is not None
    assert dict(read) == await as_sqlalchemy_reads(database, CUSTOMER_BY_EMAIL, values)
    assert read["enrolled_at"] == MOMENT


@pytest.mark.postgres
async def test_a_read_whose_connection_is_lost_leaves_no_dead_connection_in_the_pool(
    postgres_url: str,
) -> None:
    """The connection a read failed on is thrown away, not given back to the pool (with no
    pre-ping to find it dead, the next read would fail on it)."""
    database = Database(postgres_url, pool_size=1, max_overflow=0)
    sleeping = select(func.pg_sleep(bindparam("seconds")).label("slept"))
    try:
        read = asyncio.create_task(database.first_row(sleeping, {"seconds": 60}))
        async with watching(postgres_url) as watcher:
            backend = await until_running(watcher, "pg_sleep")
            await watcher.execute("SELECT pg_terminate_backend($1)", backend)
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
            await read

        after = await database.first_row(sleeping, {"seconds": 0})
    finally:
        await database.dispose()

    assert after == {"slept": None}


@asynccontextmanager
async def watching(url: str) -> AsyncIterator[asyncpg.Connection]:
    parts = make_url(url)
    watcher = await asyncpg.connect(
        host=parts.host, port=parts.port or 5432, user=parts.username, database=parts.database
    )
    try:
        yield watcher
    finally:
        await watcher.close()


async def until_running(watcher: asyncpg.Connection, text: str) -> int:
    """The backend running a query containing `text`, once it runs (polled)."""
    for _ in range(1000):
        backend: int | None = await watcher.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE state = 'active' "
            "AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()",
            text,
        )
        if backend is not None:
            return backend
        await asyncio.sleep(0.01)
    raise AssertionError(f"no query with {text!r} ever ran")


@pytest.mark.postgres
async def test_after_the_server_closed_a_connection_the_idle_ones_are_not_used_again(
    postgres_url: str,
) -> None:
    """The server restarted, say: every pooled connection is dead. The first read fails (as
    SQLAlchemy's would), the next ones start on fresh connections."""
    database = Database(postgres_url, pool_size=3, max_overflow=0)
    one = select(func.pg_backend_pid().label("backend"))
    try:
        # Three reads at once: three connections in the pool.
        warm = await asyncio.gather(*(database.first_row(one, {}) for _ in range(3)))
        backends = {read["backend"] for read in warm if read is not None}
        assert len(backends) == 3
        async with watching(postgres_url) as watcher:
            for backend in backends:
                await watcher.execute("SELECT pg_terminate_backend($1)", backend)
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
            await database.first_row(one, {})

        after = [await database.first_row(one, {}) for _ in range(3)]
    finally:
        await database.dispose()

    assert all(read is not None and read["backend"] not in backends for read in after)


@pytest.mark.postgres
async def test_a_connection_still_consuming_the_servers_goodbye_is_a_lost_connection(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the server's FATAL notice and the socket's close, asyncpg refuses a read with
    InternalClientError ('another operation is in progress'). That is the same lost
    connection: raised as one, and the pool's idle connections are not used again."""
    database = Database(postgres_url, pool_size=2, max_overflow=0)
    one = select(func.pg_backend_pid().label("backend"))
    refusal = asyncpg.InternalClientError("cannot switch to state 12; another operation (2)")
    try:
        warm = await asyncio.gather(*(database.first_row(one, {}) for _ in range(2)))
        backends = {read["backend"] for read in warm if read is not None}
        with monkeypatch.context() as patched:
            patched.setattr(asyncpg.Connection, "fetch", refuses(refusal))
            with pytest.raises(asyncpg.ConnectionDoesNotExistError) as raised:
                await database.first_row(one, {})
        after = [await database.first_row(one, {}) for _ in range(2)]
    finally:
        await database.dispose()

    assert raised.value.__cause__ is refusal
    assert all(read is not None and read["backend"] not in backends for read in after)


def refuses(error: BaseException) -> Any:
    async def fetch(*_arguments: Any, **_options: Any) -> None:
        raise error

    return fetch
