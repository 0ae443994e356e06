"""Rollup indexes by scope before period: a report reads one scope's run of periods (two
years by day are 730 rows of one scope among the 51 scopes of 50 stores), which the
primary keys, by period before scope, hold scattered among every scope's rows.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 15:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_rollup_totals_scope": ("rollup_totals", ["zone", "granularity", "scope", "period"]),
    "ix_rollup_activity_scope": ("rollup_activity", ["zone", "granularity", "scope", "period"]),
    "ix_rollup_percentiles_scope": (
        "rollup_percentiles",
        ["zone", "granularity", "scope", "metric", "key", "period"],
    ),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, (table, _columns) in INDEXES.items():
        op.drop_index(name, table_name=table)
