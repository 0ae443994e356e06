"""The writes of a movement of points, run by asyncpg inside the unit of work's transaction.

An earn is a dozen statements in one transaction; through the Session each cost about
0.1 ms of server CPU more than asyncpg's own run of it (the ORM-enabled execution, the
execution context, the cursor adapter, the result). Here a Core statement, built once, is
compiled once per dialect and set of columns (persistence/asyncpg_statements.py) and run on
the driver connection of the session's own transaction: the same transaction, the same
locks, committed or rolled back by the session as before.

SQLAlchemy runs the statement instead when asyncpg is not the driver (SQLite), before the
transaction has begun on the server (asyncpg's transaction is begun by SQLAlchemy's adapter
at the session's first statement, and only it may begin it), and while the session holds
ORM changes not yet flushed (which its own execution would flush first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import SessionTransaction

from persistence.asyncpg_statements import AsyncpgStatement, Statement

DRIVER = "asyncpg driver connection"
Values = Mapping[str, Any]
# A row read, by column name (SQLAlchemy's RowMapping on SQLite, a dict on asyncpg).
Row = Mapping[Any, Any]
COMPILED_KEPT = 512
_compiled: dict[tuple[int, int, tuple[str, ...]], AsyncpgStatement] = {}


async def rows(session: AsyncSession, statement: Statement, values: Values) -> Sequence[Row]:
    """The rows the statement returns, by column name (none for a write without
    RETURNING)."""
    driver = await _driver_in_transaction(session)
    if driver is None:
        result = await session.execute(statement, values)
        return result.mappings().all() if statement.exported_columns else []
    return await _asyncpg_statement(session, statement, values).rows(driver, values)


async def first(session: AsyncSession, statement: Statement, values: Values) -> Row | None:
    found = await rows(session, statement, values)
    return found[0] if found else None


async def rows_of_each(
    session: AsyncSession, statement: Statement, many: Sequence[Values]
) -> Sequence[Row]:
    """An INSERT ... RETURNING of each of `many`: one row each, in their order (the
    statement's RETURNING sorted by parameter order). One is run as `rows` runs it; a batch
    by SQLAlchemy, whose insertmanyvalues sends it in pages."""
    if len(many) == 1:
        return await rows(session, statement, many[0])
    if not many:
        return []
    return (await session.execute(statement, [*many])).mappings().all()


async def execute_many(session: AsyncSession, statement: Statement, many: Sequence[Values]) -> None:
    """A write without RETURNING, once for each of `many` (one round trip on asyncpg)."""
    if not many:
        return
    driver = await _driver_in_transaction(session)
    if driver is None:
        await session.execute(statement, many[0] if len(many) == 1 else [*many])
        return
    await _asyncpg_statement(session, statement, many[0]).execute_many(driver, many)


async def _driver_in_transaction(session: AsyncSession) -> Any | None:
    """The asyncpg connection of the session's transaction, once that has begun on the
    server and while the session has nothing to flush; else None."""
    if session.new or session.dirty or session.deleted:
        return None
    transaction = session.sync_session.get_transaction()
    if transaction is None:
        return None
    kept: tuple[SessionTransaction, Any] | None = session.info.get(DRIVER)
    if kept is not None and kept[0] is transaction:
        return kept[1]
    bind = session.bind
    if bind is None or bind.dialect.driver != "asyncpg":
        return None
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    if driver is None or not driver.is_in_transaction():
        return None
    session.info[DRIVER] = (transaction, driver)
    return driver


def _asyncpg_statement(
    session: AsyncSession, statement: Statement, values: Values
) -> AsyncpgStatement:
    """The statement compiled for the session's dialect and, for an INSERT or UPDATE
    without values of its own, the columns given."""
    assert session.bind is not None
    dialect = session.bind.dialect
    keys = tuple(values)
    key = (id(statement), id(dialect), keys)
    compiled = _compiled.get(key)
    if compiled is None or compiled.statement is not statement:
        if len(_compiled) >= COMPILED_KEPT:
            # Statements are built once; one built per call would only fill this.
            _compiled.clear()
        compiled = AsyncpgStatement(statement, dialect, keys)
        _compiled[key] = compiled
    return compiled
