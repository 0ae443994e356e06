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


def upgrade() -> None:
    for name, (table, columns, figures) in BY_SCOPE.items():
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=False, postgresql_include=figures)
    op.create_index(
        "ix_rollup_staff_months",
        "rollup_staff",
        ["zone", "period"],
        unique=False,
        postgresql_include=[*STAFF_FIGURES, "staff_id", "store_id"],
        postgresql_where=sa.text("granularity = 'MONTH'"),
        sqlite_where=sa.text("granularity = 'MONTH'"),
    )
    if op.get_bind().dialect.name == "postgresql":  # SQLite keeps no included columns
        for name, (table, key, figures) in KEYS_WITH_FIGURES.items():
            _primary_key(name, table, key, figures)


def downgrade() -> None:
    for name, (table, columns, _figures) in BY_SCOPE.items():
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, key, _figures) in KEYS_WITH_FIGURES.items():
            _primary_key(name, table, key, [])
    op.drop_index("ix_rollup_staff_months", table_name="rollup_staff")


def _primary_key(name: str, table: str, key: list[str], include: list[str]) -> None:
    """A primary key again, with these columns included (Alembic's create_primary_key
    takes no INCLUDE)."""
    op.drop_constraint(name, table, type_="primary")
    included = f" INCLUDE ({', '.join(include)})" if include else ""
    op.execute(
        f"ALTER TABLE {table} ADD CONSTRAINT {name} PRIMARY KEY ({', '.join(key)}){included}"
    )
