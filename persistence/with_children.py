"""A row and the rows of tables that name it, in one statement on PostgreSQL.

A sale is a row in `sales`, its lines in `sale_lines` and each rule's part in
`earn_contributions`, both naming the sale's id; a journal entry has its lines. Inserted one
statement each, they are a round trip each, and the children wait for the parent's id.
PostgreSQL inserts them in one statement: the parent in a data-modifying WITH that returns
its id, and each child table's rows from arrays (one a column) unnested beside that id.
Foreign keys are checked at the end of the statement, so the children may name a parent
inserted in the same statement. SQLite has no data-modifying WITH: there the repositories
insert the parent, then the children, as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CTE, Select, Table, bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.database import dialect_of


def together(session: AsyncSession) -> bool:
    """Whether the session's database takes a parent and its children in one statement
    (PostgreSQL; SQLite has no data-modifying WITH)."""
    return dialect_of(session) == "postgresql"


@dataclass(frozen=True)
class Children:
    """The rows of one table: the column naming the parent (None: rows that go with the
    parent without naming it), and the columns given."""

    table: Table
    parent_column: str | None
    columns: tuple[str, ...]


class InsertWithChildren:
    """The statement, built once, and its values for one parent and its children's rows."""

    def __init__(
        self, parent: Table, parent_columns: Sequence[str], children: Sequence[Children]
    ) -> None:
        self._parent_columns = tuple(parent_columns)
        self._children = tuple(children)
        inserted = (
            insert(parent)
            .values({column: bindparam(f"parent_{column}") for column in parent_columns})
            .returning(parent.c.id)
            .cte(f"{parent.name}_inserted")
        )
        rows = [_rows_of(child, inserted) for child in children]
        self.statement: Select[Any] = select(inserted.c.id).add_cte(*rows)

    def values(
        self, parent: Mapping[str, Any], children: Sequence[Sequence[Mapping[str, Any]]]
    ) -> dict[str, Any]:
        """The parent's values by column, and each child table's rows (in `children`'s
        order) as one array a column."""
        values = {f"parent_{column}": parent[column] for column in self._parent_columns}
        for child, rows in zip(self._children, children, strict=True):
            for row in rows:
                if row.keys() != set(child.columns):
                    raise ValueError(f"{child.table.name}: {sorted(row)} are not its columns")
            for column in child.columns:
                values[_array_name(child, column)] = [row[column] for row in rows]
        return values


def _rows_of(child: Children, inserted: CTE) -> CTE:
    """INSERT INTO the child's table SELECT the parent's id (when the child names it) and
    each column's array unnested, all in step."""
    unnested = [func.unnest(_array(child, column)) for column in child.columns]
    if child.parent_column is None:
        columns, source = list(child.columns), select(*unnested)
    else:
        columns = [child.parent_column, *child.columns]
        source = select(inserted.c.id, *unnested)
    return insert(child.table).from_select(columns, source).cte(f"{child.table.name}_inserted")


def _array(child: Children, column: str) -> Any:
    return bindparam(_array_name(child, column), type_=ARRAY(child.table.c[column].type))


def _array_name(child: Children, column: str) -> str:
    return f"{child.table.name}_{column}"
