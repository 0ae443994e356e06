"""Engines and sessions, built by the application's lifespan, never at import."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from persistence.asyncpg_statements import AsyncpgStatement
from persistence.programme_cache import ProgrammeCache

SQLITE_BUSY_TIMEOUT_MS = 15_000
logger = logging.getLogger(__name__)


class Database:
    """One database: a reading engine and a writing one.

    On PostgreSQL they are the same engine; writers lock the rows they change.
    SQLite allows one writer at a time, so writers here take an in-process lock
    and open their transaction with BEGIN IMMEDIATE (waiting out other
    processes for up to the busy timeout), and a client never sees
    'database is locked'.
    """

    def __init__(self, url: str | URL, **engine_options: Any) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.engine = create_async_engine(self.url, **engine_options)
        self.write_engine = self.engine
        self.write_lock: asyncio.Lock | None = None
        if self.is_sqlite:
            _configure_sqlite(self.engine, begin="BEGIN")
            self.write_engine = create_async_engine(self.url, **engine_options)
            _configure_sqlite(self.write_engine, begin="BEGIN IMMEDIATE")
            self.write_lock = asyncio.Lock()
        self._asyncpg_reads: dict[int, AsyncpgStatement] | None = None
        if self.url.get_driver_name() == "asyncpg":
            self._asyncpg_reads = {}
        self.read_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.write_sessions = async_sessionmaker(self.write_engine, expire_on_commit=False)
        # Outbox rows this process published and has yet to mark (persistence/outbox.py).
        self.published_outbox_ids: list[int] = []
        self.programme_cache = ProgrammeCache()

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A short write session outside a unit of work (it takes the SQLite writer lock)."""
        if self.write_lock is not None:
            await self.write_lock.acquire()
        try:
            async with self.write_sessions() as session:
                yield session
        finally:
            if self.write_lock is not None:
                self.write_lock.release()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A short read-only session."""
        async with self.read_sessions() as session:
            yield session

    async def first_row(
        self, statement: Select[Any], values: Mapping[str, Any]
    ) -> Mapping[str, Any] | None:
        """The first row a SELECT built once reads, by column name. On PostgreSQL asyncpg
        runs it on a pooled connection, alone, outside any transaction (one statement
        reads one snapshot): persistence/asyncpg_statements.py. SQLAlchemy runs it on
        SQLite."""
        if self._asyncpg_reads is not None:
            return await self._asyncpg_read(statement).first(self.engine, values)
        async with self.engine.connect() as connection:
            row: Mapping[str, Any] | None = (
                (await connection.execute(statement, values)).mappings().first()
            )
        return row

    def _asyncpg_read(self, statement: Select[Any]) -> AsyncpgStatement:
        assert self._asyncpg_reads is not None, "asyncpg runs reads only on PostgreSQL"
        read = self._asyncpg_reads.get(id(statement))
        if read is None or read.statement is not statement:
            read = AsyncpgStatement(statement, self.engine.dialect)
            self._asyncpg_reads[id(statement)] = read
        return read

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close the pools, once the outbox rows this process published are marked (a
        process without the app's OutboxMarker, a command or a script, marks them here)."""
        await self._mark_what_was_published()
        await self.engine.dispose()
        if self.write_engine is not self.engine:
            await self.write_engine.dispose()

    async def _mark_what_was_published(self) -> None:
        from persistence.outbox import flush_published  # noqa: PLC0415  (it imports this)

        try:
            await flush_published(self, datetime.now(UTC))
        except Exception as error:  # the relay publishes them again: harmless
            logger.warning("marking published outbox rows at close failed: %s", error)


def _configure_sqlite(engine: AsyncEngine, *, begin: str) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions, so BEGIN is ours to choose.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)


def dialect_of(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind else "postgresql"


def insert_or_ignore(session_or_dialect: AsyncSession | str, table: Any) -> Any:
    """INSERT ... ON CONFLICT, in the dialect of the session's database (both have it)."""
    dialect = (
        session_or_dialect
        if isinstance(session_or_dialect, str)
        else dialect_of(session_or_dialect)
    )
    return (sqlite if dialect == "sqlite" else postgresql).insert(table)


async def one_snapshot(session: AsyncSession) -> None:
    """Every statement of the session's transaction reads the same moment: PostgreSQL's
    REPEATABLE READ, asked before the first statement; SQLite's read transaction is one."""
    if session.get_bind().dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
