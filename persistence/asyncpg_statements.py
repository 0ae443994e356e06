"""A Core statement compiled once and run by asyncpg itself: hot reads of one row by key,
and the writes of a movement of points inside its unit of work (persistence/driver.py).

SQLAlchemy's execution of a statement (the Session's or Connection's execution context,
the DBAPI adapter's cursor, the result and its rows) costs several times what asyncpg's own
run of it costs: on the 2-core development machine under load, a customer lookup took
1.3 ms of server CPU through SQLAlchemy and 1.1 ms with the same SELECT run as here. The
statement is still written in Core, once; it is compiled for the dialect once (for an
INSERT, once per set of columns given), run on the driver connection of a pooled
SQLAlchemy connection (the documented way to reach the driver), each value given through
its column type's bind processor, and each value read through its column type's result
processor for the type PostgreSQL gives the column, as SQLAlchemy's result would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import asyncpg
from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import Pool, PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.util import greenlet_spawn

Processor = Callable[[Any], Any] | None
# A SELECT, or an INSERT, UPDATE or DELETE.
Statement = Select[Any] | UpdateBase
_GIVEN = object()


class AsyncpgStatement:
    """A statement as asyncpg runs it: its SQL, its parameters in order (each with its
    type's bind processor), the names of the columns it returns and, once known, their
    result processors."""

    def __init__(
        self, statement: Statement, dialect: Dialect, keys: Sequence[str] | None = None
    ) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=None if keys is None else [*keys])
        assert isinstance(compiled, SQLCompiler)
        _refuse_python_defaults(compiled)
        self.statement = statement
        self.sql = str(compiled)
        if "POSTCOMPILE" in self.sql:
            raise ValueError("an expanding IN parameter: run it through SQLAlchemy")
        self._dialect = dialect
        self._parameters = tuple(
            (name, _bind_processor(compiled, name, dialect), _value_of_its_own(compiled, name))
            for name in compiled.positiontup or ()
        )
        self._columns = tuple(getattr(statement, "exported_columns", ()))
        self._names = tuple(_named(column.key) for column in self._columns)
        self._processors: tuple[Processor, ...] | None = None

    async def first(self, engine: AsyncEngine, values: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row, by column name, read alone (one statement reads one snapshot) on
        the driver connection of a connection of the engine's pool, with no SQLAlchemy
        Connection around it. A connection the read failed on (cancelled, say) is not given
        back to the pool; one the server closed (it restarted, say) takes the pool's idle
        connections with it, as SQLAlchemy's own handling of a disconnect does, so that the
        next reads start on fresh ones."""
        pooled = await engine.raw_connection()
        driver = pooled.driver_connection
        assert driver is not None, "a pooled connection has its driver connection"
        try:
            rows = await self.rows(driver, values)
        except asyncpg.InternalClientError as error:
            # The server ended the connection while it was idle in the pool (restarted,
            # or pg_terminate_backend): asyncpg has read the FATAL notice but not yet the
            # close, so the connection is not closed yet and refuses the read with this.
            await _thrown_away(pooled, engine.sync_engine.pool)
            raise asyncpg.ConnectionDoesNotExistError(
                "the server closed the connection before the read"
            ) from error
        except BaseException:
            await _thrown_away(pooled, engine.sync_engine.pool if driver.is_closed() else None)
            raise
        # In SQLAlchemy's greenlet: the pool may close a connection handed back (a pool
        # disposed meanwhile), which awaits the driver.
        await greenlet_spawn(pooled.close)
        return rows[0] if rows else None

    async def rows(self, driver: Any, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every row it returns, by column name (none for a write without RETURNING)."""
        arguments = self._arguments(values)
        if not self._columns:
            await driver.execute(self.sql, *arguments)
            return []
        processors = self._processors or await self._result_processors(driver)
        records = await driver.fetch(self.sql, *arguments)
        return [
            {
                name: value if process is None else process(value)
                for name, process, value in zip(self._names, processors, record, strict=True)
            }
            for record in records
        ]

    async def execute_many(self, driver: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        """A write without RETURNING for each row, pipelined by asyncpg."""
        assert not self._columns, "asyncpg's executemany returns no rows"
        await driver.executemany(self.sql, [self._arguments(values) for values in rows])

    def _arguments(self, values: Mapping[str, Any]) -> list[Any]:
        arguments = []
        for name, process, own in self._parameters:
            value = values[name] if own is _GIVEN else values.get(name, own)
            arguments.append(value if process is None else process(value))
        return arguments

    async def _result_processors(self, driver: Any) -> tuple[Processor, ...]:
        """Each column's result processor for the type PostgreSQL gives the column (the
        asyncpg dialect chooses some by it, NUMERIC's for one), read once from the
        statement prepared."""
        prepared = await driver.prepare(self.sql)
        oids = [attribute.type.oid for attribute in prepared.get_attributes()]
        dialect = self._dialect
        self._processors = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, oid)
            for column, oid in zip(self._columns, oids, strict=True)
        )
        return self._processors


def _bind_processor(compiled: SQLCompiler, name: str, dialect: Dialect) -> Processor:
    processor: Processor = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
    return processor


def _value_of_its_own(compiled: SQLCompiler, name: str) -> Any:
    """A parameter's value written into the statement (a literal in `.values()`, say); a
    parameter whose value each run gives: _GIVEN."""
    parameter = compiled.binds[name]
    if parameter.required or parameter.callable is not None:
        return _GIVEN
    return parameter.value


def _refuse_python_defaults(compiled: SQLCompiler) -> None:
    """A column default computed in Python is SQLAlchemy's execution context's to compute:
    such a statement is not one for asyncpg alone."""
    prefetch = [
        *getattr(compiled, "insert_prefetch", ()),
        *getattr(compiled, "update_prefetch", ()),
    ]
    if prefetch:
        names = ", ".join(str(column) for column in prefetch)
        raise ValueError(f"defaults computed in Python ({names}): run it through SQLAlchemy")


async def _thrown_away(pooled: PoolProxiedConnection, pool: Pool | None) -> None:
    """The connection discarded, and with it the pool's idle ones when `pool` is given
    (shielded: a read cancelled still discards its connection)."""
    await asyncio.shield(greenlet_spawn(_discard, pooled, pool))


def _discard(pooled: PoolProxiedConnection, pool: Pool | None) -> None:
    if pool is not None:
        pool.dispose()
    pooled.invalidate()


def _named(key: str | None) -> str:
    if key is None:
        raise ValueError("each column the statement returns needs a name")
    return key
