"""Campaign sales and spends by local day, values seen by quarter and year, and indexes
that answer the long reads alone.

`rollup_campaign_days` is filled here from the campaign rows already counted, for every
time zone the rollups keep so far, so an upgraded programme reports its campaigns as
before; the quarters and years of values seen are added up from their months. On
PostgreSQL the gaps and the values also carry their counts in their indexes
(index-only scans); SQLite has no INCLUDE and keeps its indexes as they were.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 16:40:00.000000
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import persistence.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRIMARY_KEYS_WITH_COUNTS = {
    "rollup_gaps": (("zone", "scope", "after", "before"), "customers"),
    "rollup_values": (
        ("zone", "granularity", "period", "scope", "metric", "key", "value"),
        "count",
    ),
}


def upgrade() -> None:
    op.create_table(
        "rollup_campaign_days",
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("bulk_award_id", sa.String(length=36), nullable=False),
        sa.Column("holdout", sa.Boolean(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("revenue", persistence.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("points_spent", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "zone", "bulk_award_id", "holdout", "day", name=op.f("pk_rollup_campaign_days")
        ),
    )
    with op.batch_alter_table("rollup_campaign_spends", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rollup_campaign_spends_window",
            ["bulk_award_id", "spent_at"],
            unique=False,
            postgresql_include=["points"],
        )
    with op.batch_alter_table("rollup_campaign_sales", schema=None) as batch_op:
        batch_op.drop_index("ix_rollup_campaign_sales_window")
        batch_op.create_index(
            "ix_rollup_campaign_sales_window",
            ["bulk_award_id", "holdout", "occurred_at"],
            unique=False,
            postgresql_include=["revenue"],
        )
    with op.batch_alter_table("rollup_gaps", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rollup_gaps_before",
            ["zone", "scope", "before", "after"],
            unique=False,
            postgresql_include=["customers"],
        )
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        for table, (key, counted) in PRIMARY_KEYS_WITH_COUNTS.items():
            _primary_key(table, key, f" INCLUDE ({counted})")
        _fill_campaign_days_in_sql()
    else:
        _fill_campaign_days_here()
    for granularity, start in (PERIOD_START if postgresql else SQLITE_PERIOD_START).items():
        op.execute(VALUES_OF_MONTHS.format(granularity=granularity, start=start))


# The first day of a month row's quarter and year, in each dialect.
PERIOD_START = {
    "QUARTER": "date_trunc('quarter', period)::date",
    "YEAR": "date_trunc('year', period)::date",
}
SQLITE_PERIOD_START = {
    "QUARTER": "strftime('%Y-', period) || printf('%02d', "
    "(CAST(strftime('%m', period) AS INTEGER) - 1) / 3 * 3 + 1) || '-01'",
    "YEAR": "strftime('%Y-01-01', period)",
}
VALUES_OF_MONTHS = """
INSERT INTO rollup_values (zone, granularity, period, scope, metric, key, value, count)
SELECT zone, '{granularity}', {start}, scope, metric, key, value, sum(count)
FROM rollup_values WHERE granularity = 'MONTH'
GROUP BY zone, {start}, scope, metric, key, value"""


def downgrade() -> None:
    op.execute("DELETE FROM rollup_values WHERE granularity IN ('QUARTER', 'YEAR')")
    if op.get_bind().dialect.name == "postgresql":
        for table, (key, _counted) in PRIMARY_KEYS_WITH_COUNTS.items():
            _primary_key(table, key, "")
    with op.batch_alter_table("rollup_gaps", schema=None) as batch_op:
        batch_op.drop_index("ix_rollup_gaps_before")
    with op.batch_alter_table("rollup_campaign_sales", schema=None) as batch_op:
        batch_op.drop_index("ix_rollup_campaign_sales_window")
        batch_op.create_index(
            "ix_rollup_campaign_sales_window",
            ["bulk_award_id", "holdout", "occurred_at"],
            unique=False,
        )
    with op.batch_alter_table("rollup_campaign_spends", schema=None) as batch_op:
        batch_op.drop_index("ix_rollup_campaign_spends_window")
    op.drop_table("rollup_campaign_days")


def _primary_key(table: str, key: Sequence[str], include: str) -> None:
    columns = ", ".join(f'"{column}"' for column in key)
    op.execute(
        f"ALTER TABLE {table} DROP CONSTRAINT pk_{table}, "
        f"ADD CONSTRAINT pk_{table} PRIMARY KEY ({columns}){include}"
    )


# The zones the rollups kept so far are those their totals hold.
KEPT_ZONES = "SELECT DISTINCT zone FROM rollup_totals"


def _fill_campaign_days_in_sql() -> None:
    op.execute(
        """
INSERT INTO rollup_campaign_days (zone, bulk_award_id, holdout, day, revenue, points_spent)
SELECT z.zone, x.bulk_award_id, x.holdout, (x.at AT TIME ZONE z.zone)::date,
    sum(x.revenue), sum(x.points_spent)
FROM (
    SELECT bulk_award_id, holdout, occurred_at AS at, revenue, 0 AS points_spent
    FROM rollup_campaign_sales
    UNION ALL
    SELECT bulk_award_id, false, spent_at, 0, points FROM rollup_campaign_spends
) AS x CROSS JOIN (SELECT DISTINCT zone FROM rollup_totals) AS z
GROUP BY 1, 2, 3, 4"""
    )


def _fill_campaign_days_here() -> None:
    """SQLite keeps money as text and knows no time zones: added up here."""
    bind = op.get_bind()
    zones = [ZoneInfo(name) for (name,) in bind.execute(sa.text(KEPT_ZONES))]
    days: defaultdict[tuple[str, str, bool, date], list[Decimal]] = defaultdict(
        lambda: [Decimal(0), Decimal(0)]
    )
    sold = bind.execute(
        sa.select(SALES.c.bulk_award_id, SALES.c.holdout, SALES.c.occurred_at, SALES.c.revenue)
    ).all()
    spent = bind.execute(
        sa.select(SPENDS.c.bulk_award_id, sa.false(), SPENDS.c.spent_at, SPENDS.c.points)
    ).all()
    for index, rows in enumerate((sold, spent)):
        for job, holdout, at, amount in rows:
            for zone in zones:
                days[(zone.key, job, bool(holdout), at.astimezone(zone).date())][index] += amount
    if days:
        bind.execute(
            sa.insert(DAYS),
            [
                {
                    "zone": zone,
                    "bulk_award_id": job,
                    "holdout": holdout,
                    "day": day,
                    "revenue": revenue,
                    "points_spent": int(points),
                }
                for (zone, job, holdout, day), (revenue, points) in days.items()
            ],
        )


# The tables as this revision knows them (not the models, which move on).
SALES = sa.table(
    "rollup_campaign_sales",
    sa.column("bulk_award_id", sa.String()),
    sa.column("holdout", sa.Boolean()),
    sa.column("occurred_at", persistence.types.UtcDateTime()),
    sa.column("revenue", persistence.types.Money()),
)
SPENDS = sa.table(
    "rollup_campaign_spends",
    sa.column("bulk_award_id", sa.String()),
    sa.column("spent_at", persistence.types.UtcDateTime()),
    sa.column("points", sa.BigInteger()),
)
DAYS = sa.table(
    "rollup_campaign_days",
    sa.column("zone", sa.String()),
    sa.column("bulk_award_id", sa.String()),
    sa.column("holdout", sa.Boolean()),
    sa.column("day", sa.Date()),
    sa.column("revenue", persistence.types.Money()),
    sa.column("points_spent", sa.BigInteger()),
)
