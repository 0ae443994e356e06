"""Rows passed to PostgreSQL as arrays: one array parameter per column, unnested.

A statement that reads its rows this way is the same statement whatever the rows, so it is
built and compiled once, and it takes one parameter per column however many rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnClause, bindparam, func
from sqlalchemy.dialects.postgresql import ARRAY


def unnest_rows(name: str, *columns: ColumnClause[Any]) -> Any:
    """A FROM of rows named `name`, each column from the array parameter
    `{name}_{column}` (see `array_parameters`)."""
    arrays = [bindparam(f"{name}_{c.name}", type_=ARRAY(c.type)) for c in columns]
    return func.unnest(*arrays).table_valued(*columns).render_derived(name=name)


def array_parameters(
    name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Mapping[str, list[Any]]:
    """The parameters of `unnest_rows(name, ...)` for these rows (tuples in column order)."""
    arrays: list[list[Any]] = [[] for _ in columns]
    for row in rows:
        for array, value in zip(arrays, row, strict=True):
            array.append(value)
    return {f"{name}_{column}": array for column, array in zip(columns, arrays, strict=True)}
