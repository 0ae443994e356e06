"""Two long-range reads from indexes alone (index-only scans), not from heap pages
scattered among other rows:
- the staff rollup's month rows with their figures, in an index of their own (two years'
  staff table is 24 months of every staff member and store; the day rows, most of the
  table and of its writes, stay out of it and keep their updates HOT);
- the campaign day rows' revenue and points spent in their primary key (each campaign's
  windows sum up to two years of its days).

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
CAMPAIGN_DAY_KEY = ["zone", "bulk_award_id", "holdout", "day"]


def upgrade() -> None:
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
        _campaign_day_key(include=["revenue", "points_spent"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _campaign_day_key(include=[])
    op.drop_index("ix_rollup_staff_months", table_name="rollup_staff")


def _campaign_day_key(include: list[str]) -> None:
    """The primary key again, with these columns included (Alembic's create_primary_key
    takes no INCLUDE)."""
    op.drop_constraint("pk_rollup_campaign_days", "rollup_campaign_days", type_="primary")
    included = f" INCLUDE ({', '.join(include)})" if include else ""
    op.execute(
        "ALTER TABLE rollup_campaign_days ADD CONSTRAINT pk_rollup_campaign_days"
        f" PRIMARY KEY ({', '.join(CAMPAIGN_DAY_KEY)}){included}"
    )
