"""Fixtures: a migrated SQLite file and a migrated PostgreSQL database per run.

PostgreSQL comes from LOYALTY_TEST_POSTGRES_URL (default: the local `test`
database); each run creates its own database beside it and drops it at the
end. Under CI=true a service that cannot be reached fails the tests that need
it; elsewhere they are skipped with the reason.

A test that asks for `history` gets a database of its own: a copy of a week of demo
history seeded once per run and backend (seeding takes seconds; a copy, a fraction
of one), dropped after the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from httpx_ws.transport import ASGIWebSocketTransport
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import delete, text
from sqlalchemy.engine import URL, make_url
from starlette.applications import Starlette

from api.app import create_app
from api.auth import Role, TokenIssuer
from api.demo import seed_if_empty
from api.settings import Settings
from persistence.database import Database
from persistence.migrate import upgrade_to_head
from persistence.models import metadata

POSTGRES_URL = os.environ.get(
    "LOYALTY_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ["sqlite", "postgres"]


def service_unavailable(name: str, error: BaseException) -> None:
    message = f"{name} is unreachable: {error!r}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: services must be up, tests never skip)")
    pytest.skip(message)


async def _admin_connection(url: URL) -> asyncpg.Connection:
    return await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
    )


@contextlib.asynccontextmanager
async def new_postgres_database(prefix: str, template: str | None = None) -> AsyncIterator[str]:
    """A database of its own beside the test one, dropped afterwards: its URL. Empty, or a
    copy of the database at the URL `template` (which nothing may be connected to)."""
    admin_url = make_url(POSTGRES_URL)
    try:
        admin = await _admin_connection(admin_url)
    except (OSError, asyncpg.PostgresError) as error:
        service_unavailable("PostgreSQL", error)
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    copied = f' TEMPLATE "{make_url(template).database}"' if template else ""
    await admin.execute(f'CREATE DATABASE "{name}"{copied}')
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
async def postgres_url() -> AsyncIterator[str]:
    async with new_postgres_database("loyalty_test") as url:
        await asyncio.to_thread(upgrade_to_head, url)
        yield url


@pytest.fixture(scope="session")
async def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "loyalty.db"
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade_to_head, url)
    return url


HISTORY_DAYS = 7


async def seed_history(url: str) -> None:
    """The demo programme with HISTORY_DAYS of history, migrated and seeded into an empty
    database; every connection to it closed when done."""
    await asyncio.to_thread(upgrade_to_head, url)
    await seed_if_empty(Settings(database_url=url, demo_history_days=HISTORY_DAYS), io.StringIO())


@pytest.fixture(scope="session")
async def postgres_history() -> AsyncIterator[str]:
    """The seeded history on PostgreSQL, only ever copied: connections to it are refused
    from now on, so a copy is never refused for one (nor the template changed)."""
    async with new_postgres_database("loyalty_history") as url:
        await seed_history(url)
        admin = await _admin_connection(make_url(POSTGRES_URL))
        try:
            await admin.execute(
                f'ALTER DATABASE "{make_url(url).database}" WITH ALLOW_CONNECTIONS false'
            )
        finally:
            await admin.close()
        yield url


@pytest.fixture(scope="session")
async def sqlite_history(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The seeded history in a SQLite file, only ever copied."""
    path: Path = tmp_path_factory.mktemp("sqlite") / "history.db"
    url = f"sqlite+aiosqlite:///{path}"
    await seed_history(url)
    return url


@pytest.fixture
async def postgres_history_copy(postgres_history: str) -> AsyncIterator[str]:
    async with new_postgres_database("loyalty_history_copy", postgres_history) as url:
        yield url


@pytest.fixture
async def sqlite_history_copy(sqlite_history: str, tmp_path: Path) -> AsyncIterator[str]:
    path = tmp_path / "history.db"
    await asyncio.to_thread(_copy_sqlite, make_url(sqlite_history).database or "", path)
    try:
        yield f"sqlite+aiosqlite:///{path}"
    finally:
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)


def _copy_sqlite(source: str, target: Path) -> None:
    # The backup API copies one consistent state, whatever is still in the source's WAL.
    with (
        contextlib.closing(sqlite3.connect(source)) as original,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        original.backup(copy)


def wants_history(request: pytest.FixtureRequest) -> bool:
    return "history" in request.fixturenames


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """The run's database of the backend; for a test that asks for `history`, a copy of the
    run's seeded history of its own."""
    kind = "history_copy" if wants_history(request) else "url"
    url: str = request.getfixturevalue(f"{request.param}_{kind}")
    return url


# The programme's version row stays, with a token no cache has seen (the triggers that
# would give it one are off while the tables are emptied).
KEPT_TABLES = {"programme_version"}
NEW_PROGRAMME_VERSION = "UPDATE programme_version SET token = '{token}'"
TABLES = [table.name for table in metadata.sorted_tables if table.name not in KEPT_TABLES]
# In one round trip: every table emptied, then the sequences of the tables' columns put back
# at their start, as TRUNCATE ... RESTART IDENTITY leaves them.
EMPTY_POSTGRES_TABLES = text(
    f"""
    DO $$ BEGIN
        SET LOCAL session_replication_role = replica;
        {" ".join(f'DELETE FROM "{name}";' for name in reversed(TABLES))}
        PERFORM setval(sequence.seqrelid, sequence.seqstart, false)
        FROM pg_sequence sequence
        JOIN pg_depend owned ON owned.classid = 'pg_class'::regclass
            AND owned.objid = sequence.seqrelid AND owned.deptype IN ('a', 'i')
        JOIN pg_class owner ON owner.oid = owned.refobjid
        WHERE owner.relnamespace = current_schema()::regnamespace
            AND owner.relname IN ({", ".join(f"'{name}'" for name in TABLES)});
    END $$
    """
)


async def empty_tables(database: Database) -> None:
    """Every table emptied and its ids restarted, with the journal's append-only triggers
    lifted meanwhile. On PostgreSQL by DELETE as the replication role (no triggers, no
    foreign key checks; a superuser's right): a TRUNCATE of every table makes new files
    for each and costs a few tenths of a second a test, a DELETE of a test's few rows
    next to nothing. Call it with nothing else using the database (no app running)."""
    async with database.write_sessions() as session, session.begin():
        if database.is_sqlite:
            found = await session.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            )
            triggers = list(found)
            for name, _sql in triggers:
                await session.execute(text(f'DROP TRIGGER "{name}"'))
            for table in reversed(metadata.sorted_tables):
                if table.name not in KEPT_TABLES:
                    await session.execute(delete(table))
            for _name, sql in triggers:
                await session.execute(text(sql))
        else:
            await session.execute(EMPTY_POSTGRES_TABLES)
        await session.execute(text(NEW_PROGRAMME_VERSION.format(token=secrets.token_hex(16))))


@pytest.fixture
async def database(database_url: str, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """The test's database: the run's one emptied, or the test's own copy of the history."""
    database = Database(database_url)
    if not wants_history(request):
        await empty_tables(database)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def settings(database: Database) -> Settings:
    return Settings(database_url=database.url.render_as_string(hide_password=False))


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


def mint(
    settings: Settings,
    role: Role,
    *,
    stores: tuple[str, ...] = ("S1",),
    terminal: str | None = "T1",
    staff: str | None = None,
    ttl: timedelta = timedelta(hours=1),
    rights: tuple[str, ...] = (),
) -> str:
    """A bearer token as `loyalty token` would mint it."""
    return TokenIssuer(settings.auth_secret.get_secret_value()).mint(
        role=role,
        staff_id=staff or f"{role.value}-1",
        stores=stores,
        terminal_id=terminal,
        now=datetime.now(UTC),
        ttl=ttl,
        rights=rights,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin_token(settings: Settings) -> str:
    return mint(settings, Role.ADMIN, stores=(), terminal=None, staff="admin-1")


@pytest.fixture
async def client(app: Starlette, admin_token: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client carrying an admin token unless a request says otherwise."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=bearer(admin_token)
    ) as client:
        yield client


def websocket_client(app: Starlette) -> httpx.AsyncClient:
    """An HTTP client that also speaks WebSocket to the app; enter it inside the test's own
    task (its transport runs a task group that must be left by the task that entered it)."""
    return httpx.AsyncClient(
        transport=ASGIWebSocketTransport(app=app), base_url="http://testserver"
    )


class GraphQLClient:
    """Posts GraphQL documents over HTTP, as a POS would, with its own token if given."""

    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http = http
        self.headers = bearer(token) if token else {}

    def with_token(self, token: str) -> GraphQLClient:
        return GraphQLClient(self.http, token)

    async def raw(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=self.headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = await self.raw(query, variables)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


REDIS_URL = os.environ.get("LOYALTY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A Redis key prefix of this test's own; its keys are deleted afterwards."""
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        await client.aclose()
        service_unavailable("Redis", error)
    prefix = f"loyalty-test-{secrets.token_hex(4)}"
    try:
        yield prefix
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture
def history(database: Database) -> Database:
    """The demo programme with a week of history: customers enrolled over the week, sales,
    checkouts, redemptions, refunds, a bulk award and an expiry run. Seeded once per run;
    asking for it makes `database` (and `settings`) the test's own copy of it."""
    return database


def loyalty_command(*arguments: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """`loyalty ...` as an operator runs it, against the given database."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *arguments],
        env={**environment, "LOYALTY_DATABASE_URL": database_url, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
