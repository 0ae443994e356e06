"""Adding deltas to the rollup rows of their keys, and finding rows by key: the machinery
every count into the rollups shares, on PostgreSQL and on SQLite."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select, text, tuple_
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.analytics.tally import Number
from persistence.base import Base, table_of
from persistence.database import insert_or_ignore

CHUNK = 400
KeyT = TypeVar("KeyT")


class Deltas(defaultdict[tuple[object, ...], defaultdict[str, Number]]):
    def __init__(self) -> None:
        super().__init__(lambda: defaultdict(int))

    def add(self, key: tuple[object, ...], **figures: Number) -> None:
        for name, amount in figures.items():
            self[key][name] += amount


def _key_names(model: type[Base]) -> list[str]:
    return [column.name for column in table_of(model).primary_key.columns]


def chunks(items: Sequence[KeyT], size: int = CHUNK) -> Iterator[Sequence[KeyT]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def is_postgres(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


async def rows_for_keys(
    session: AsyncSession,
    model: type[Base],
    names: Sequence[str],
    keys: Sequence[tuple[object, ...]],
) -> list[dict[str, Any]]:
    """The rows whose columns `names` are one of `keys`: on PostgreSQL joined with the keys
    as a VALUES list (index lookups; a row-value IN list would scan), on SQLite by IN."""
    table = table_of(model)
    found: list[dict[str, Any]] = []
    if not is_postgres(session):
        for chunk in chunks(keys):
            rows = await session.execute(
                select(table).where(tuple_(*(table.c[name] for name in names)).in_(chunk))
            )
            found += [dict(row) for row in rows.mappings()]
        return found
    for chunk in chunks(keys, 5000):
        rows = await session.execute(_joined_with_keys(table, names), as_arrays(names, chunk))
        found += [dict(row) for row in rows.mappings()]
    return found


def _joined_with_keys(table: Any, names: Sequence[str]) -> Any:
    """SELECT the table's rows joined with unnest(one array per key column): a handful of
    parameters however many keys (a VALUES list would bind and compile each one)."""
    arrays = ", ".join(f"CAST(:{name} AS {_array_type(table.c[name])})" for name in names)
    matched = " AND ".join(f'{table.name}."{name}" = wanted."{name}"' for name in names)
    listed = ", ".join(f'"{name}"' for name in names)
    selected = ", ".join(f'{table.name}."{c.name}"' for c in table.columns)
    return text(
        f"SELECT {selected} FROM {table.name} "  # noqa: S608 (names are the model's)
        f"JOIN unnest({arrays}) AS wanted({listed}) ON {matched}"
    ).columns(*table.columns)


def _array_type(column_: Any) -> str:
    python_type = column_.type.python_type
    if python_type is date:
        return "date[]"
    if python_type is Decimal:
        return "numeric[]"
    return "bigint[]" if python_type is int else "text[]"


def as_arrays(names: Sequence[str], keys: Sequence[tuple[object, ...]]) -> dict[str, list[object]]:
    return {name: [key[index] for key in keys] for index, name in enumerate(names)}


async def existing_rows(
    session: AsyncSession, model: type[Base], keys: Sequence[tuple[object, ...]]
) -> dict[tuple[object, ...], dict[str, Any]]:
    names = _key_names(model)
    rows = await rows_for_keys(session, model, names, keys)
    return {tuple(row[name] for name in names): row for row in rows}


async def add_to(
    session: AsyncSession,
    model: type[Base],
    deltas: Mapping[tuple[object, ...], Mapping[str, Number]],
) -> None:
    """Add each delta to the row of its key (a new row starts at zero): on PostgreSQL in the
    upsert itself (NUMERIC adds exactly), on SQLite read, added here and written back (it
    keeps money as text and would add it as floats)."""
    if not deltas:
        return
    table, names = table_of(model), _key_names(model)
    values_ = [c.name for c in table.columns if c.name not in names]
    existing = {} if is_postgres(session) else await existing_rows(session, model, list(deltas))
    merged = []
    for key, delta in deltas.items():
        row = existing.get(key) or {
            **dict(zip(names, key, strict=True)),
            **dict.fromkeys(values_, 0),
        }
        for name, amount in delta.items():
            row[name] = row[name] + amount
        merged.append(row)
    if not is_postgres(session):
        await upsert(session, model, merged)
        return
    statement = postgresql.insert(table)
    added = {name: table.c[name] + statement.excluded[name] for name in values_}
    for chunk in chunks(merged, 5000):
        await session.execute(
            statement.on_conflict_do_update(index_elements=names, set_=added), list(chunk)
        )


async def upsert(session: AsyncSession, model: type[Base], rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table, names = table_of(model), _key_names(model)
    statement = insert_or_ignore(session, table)
    updated = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in names}
    await session.execute(statement.on_conflict_do_update(index_elements=names, set_=updated), rows)
