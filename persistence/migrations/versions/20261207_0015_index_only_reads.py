"""Long-range reads from indexes alone (index-only scans), not from heap pages scattered
among other rows:
- the by-scope indexes of the totals, the activity counters and the kept percentiles
  (0013) with their figures included: two years by day are 730 rows of each, on as many
  heap pages;
- the staff rollup's month rows with their figures, in an index of their own (two years'
  staff table is 24 months of every staff member and store; the day rows, most of the
  table and of its writes, stay out of it and keep their updates HOT);
- the campaign day rows' revenue and points spent in their primary key (each campaign's
  windows sum up to two years of its days), and the reward rows' redemptions and points
  in theirs.
The price: an update of a row's figures writes index entries where it wrote none (not a
HOT update); only today's and this period's rows change, and the rollup worker's
catching-up rate was measured with it (README, Performance).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAFF_FIGURES = [
    "enrolments",
    "sales",
    "points_issued",
    "points_redeemed",
    "refunds",
    "adjustments",
]
# Primary keys that include their figures from here on: (table, key, figures).
KEYS_WITH_FIGURES = {
    "pk_rollup_campaign_days": (
        "rollup_campaign_days",
        ["zone", "bulk_award_id", "holdout", "day"],
        ["revenue", "points_spent"],
    ),
    "pk_rollup_rewards": (
        "rollup_rewards",
        ["zone", "granularity", "period", "scope", "reward"],
        ["redemptions", "points"],
    ),
}
TOTALS_FIGURES = [
    "sales",
    "sales_with_redemption",
    "checkouts",
    "points_earned",
    "points_awarded",
    "points_redeemed",
    "points_expired",
    "points_reversed",
    "net_points",
    "revenue",
    "new_customers",
    "redemptions",
    "guest_sales",
    "guest_revenue",
]
# 0013's indexes by scope: (table, columns, figures included from here on).
BY_SCOPE = {
    "ix_rollup_totals_scope": (
        "rollup_totals",
        ["zone", "granularity", "scope", "period"],
        TOTALS_FIGURES,
    ),
    "ix_rollup_activity_scope": (
        "rollup_activity",
        ["zone", "granularity", "scope", "period"],
        ["active", "retained"],
    ),
    "ix_rollup_percentiles_scope": (
        "rollup_percentiles",
        ["zone", "granularity", "scope", "metric", "key", "period"],
        ["count", "p50", "p90", "p95"],
    ),
}


STAFF_MONTHS = (
    "ix_rollup_staff_months",
    "rollup_staff",
    ["zone", "period"],
    [*STAFF_FIGURES, "staff_id", "store_id"],
)
MONTH_ROWS = "granularity = 'MONTH'"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        # SQLite keeps no included columns: only the month rows' index is new.
        name, table, columns, _figures = STAFF_MONTHS
        op.create_index(name, table, columns, sqlite_where=sa.text(MONTH_ROWS))
        return
    # Each index built beside the one it replaces, without blocking writes (CONCURRENTLY,
    # outside a transaction), then swapped in: a lock held only for the swap. Each step
    # can run again after an interruption.
    with op.get_context().autocommit_block():
        for name, (table, columns, figures) in BY_SCOPE.items():
            _rebuild_index(name, table, columns, figures)
        name, table, columns, figures = STAFF_MONTHS
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        op.execute(
            f"CREATE INDEX CONCURRENTLY {name} ON {table} ({', '.join(columns)})"
            f"{_including(figures)} WHERE {MONTH_ROWS}"
        )
        for name, (table, key, figures) in KEYS_WITH_FIGURES.items():
            _rebuild_primary_key(name, table, key, figures)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(STAFF_MONTHS[0], table_name=STAFF_MONTHS[1])
        return
    with op.get_context().autocommit_block():
        for name, (table, key, _figures) in KEYS_WITH_FIGURES.items():
            _rebuild_primary_key(name, table, key, [])
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {STAFF_MONTHS[0]}")
        for name, (table, columns, _figures) in BY_SCOPE.items():
            _rebuild_index(name, table, columns, [])


def _rebuild_index(name: str, table: str, columns: list[str], include: list[str]) -> None:
    rebuilt = f"{name}_rebuilt"
    op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {rebuilt}")  # an interrupted build's
    op.execute(
        f"CREATE INDEX CONCURRENTLY {rebuilt} ON {table} ({', '.join(columns)})"
        f"{_including(include)}"
    )
    op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    op.execute(f"ALTER INDEX {rebuilt} RENAME TO {name}")


def _rebuild_primary_key(name: str, table: str, key: list[str], include: list[str]) -> None:
    """The primary key's index built beside it, then made the key (Alembic's
    create_primary_key takes no INCLUDE)."""
    rebuilt = f"{name}_rebuilt"
    op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {rebuilt}")
    op.execute(
        f"CREATE UNIQUE INDEX CONCURRENTLY {rebuilt} ON {table} ({', '.join(key)})"
        f"{_including(include)}"
    )
    op.execute(
        f"ALTER TABLE {table} DROP CONSTRAINT {name},"
        f" ADD CONSTRAINT {name} PRIMARY KEY USING INDEX {rebuilt}"
    )


def _including(columns: list[str]) -> str:
    return f" INCLUDE ({', '.join(columns)})" if columns else ""
