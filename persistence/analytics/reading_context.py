"""What every part of one rollup report reads with: the session, the range asked, its
time zone and scopes, and Core statements on connections that share one snapshot.

On PostgreSQL a report's independent parts (the periods, the campaigns, the staff, the
percentiles of the range...) run at once, on up to `width` connections: the session's,
whose REPEATABLE READ transaction exports its snapshot, and others that import it (`SET
TRANSACTION SNAPSHOT`), so every statement of the report still reads the same moment. A
statement takes whichever of them is free. SQLite has one connection, and its statements
take turns on it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from types import TracebackType
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from domain.analytics import PROGRAMME, AnalyticsRange

ALL_REWARDS = PROGRAMME
MONEY_OFF = ""
# Connections one report reads on at most (PostgreSQL): enough for its longest parts to
# overlap, few enough that a dashboard of several reports does not drain the pool.
CONNECTIONS_A_REPORT = 3
# How a report's statements are planned, for its transactions only. Each with its values:
# a generic plan cannot tell which end of the gaps' two indexes holds fewer of a range's
# rows, nor how many values seen a range's rows hold. And without parallel workers: every
# statement reads index ranges of a few thousand rows, which starting workers (a Gather)
# makes several times slower, more so on a busy machine.
PLANNING = (
    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true),"
    " set_config('max_parallel_workers_per_gather', '0', true)"
)
EXPORTING = text(f"{PLANNING}, pg_export_snapshot()")
PLANNED = text(PLANNING)
REPEATABLE_READ = {"isolation_level": "REPEATABLE READ"}
SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+-[0-9]+")


class ReadingContext:
    """The session and the range one report reads the rollups of; `async with` it to give
    back the connections it opened beside the session's."""

    def __init__(
        self, session: AsyncSession, asked: AnalyticsRange, width: int = CONNECTIONS_A_REPORT
    ) -> None:
        self.session = session
        self.asked = asked
        self.zone = asked.zone_name
        self.scopes = asked.scopes
        self.single = len(self.scopes) == 1
        bind = session.bind
        self.postgresql = bind is not None and bind.dialect.name == "postgresql"
        self.width = width if self.postgresql else 1
        self._free: asyncio.Queue[AsyncConnection] = asyncio.Queue()
        self._opened = 0
        self._opening = asyncio.Lock()
        self._snapshot: str | None = None
        self._others = AsyncExitStack()

    async def __aenter__(self) -> ReadingContext:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._others.aclose()

    async def execute(self, statement: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        """A Core statement on a free connection of the report: rows as tuples, without
        the ORM's per-row work (a long report reads tens of thousands), buffered, so the
        connection is free again once it returns."""
        connection = await self._take()
        try:
            return await connection.execute(statement, parameters)
        finally:
            self._free.put_nowait(connection)

    async def scalar(self, statement: Any) -> Any:
        return (await self.execute(statement)).scalar()

    async def _take(self) -> AsyncConnection:
        if self._free.empty() and self._opened < self.width:
            async with self._opening:
                if self._opened < self.width:
                    self._opened += 1
                    return await self._open()
        return await self._free.get()

    async def _open(self) -> AsyncConnection:
        if self._opened == 1:
            return await self._session_connection()
        assert self._snapshot is not None, "the session's connection exports it first"
        return await self._others.enter_async_context(self._beside(self._snapshot))

    async def _session_connection(self) -> AsyncConnection:
        if not self.postgresql:
            return await self.session.connection()
        if self.session.in_transaction():
            # Its snapshot is the caller's to choose: read it alone.
            self.width = 1
            connection = await self.session.connection()
            await connection.execute(PLANNED)
            return connection
        # One snapshot for the whole report: its statements (the bins, then the values in
        # them) agree with each other while the worker commits.
        connection = await self.session.connection(execution_options=REPEATABLE_READ)
        if self.width == 1:
            await connection.execute(PLANNED)
        else:
            self._snapshot = (await connection.execute(EXPORTING)).one()[-1]
        return connection

    @asynccontextmanager
    async def _beside(self, snapshot: str) -> AsyncIterator[AsyncConnection]:
        """Another connection in a transaction that reads the session's snapshot."""
        if not SNAPSHOT_ID.fullmatch(snapshot):
            raise ValueError(f"not a snapshot id: {snapshot!r}")
        engine = self.session.bind
        assert isinstance(engine, AsyncEngine), "a reading session is bound to its engine"
        async with engine.connect() as connection:  # closing it rolls its reads back
            reading = await connection.execution_options(**REPEATABLE_READ)
            await reading.begin()
            # A literal: SET takes no parameters; the id was checked above.
            await reading.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
            await reading.execute(PLANNED)
            yield reading
