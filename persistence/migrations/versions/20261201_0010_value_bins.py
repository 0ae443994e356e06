"""Values seen also counted in bins of two significant figures.

A percentile of a range that is not one kept period first ranks the bins, then only the
values in the bins that hold the ranks it needs. The bins are added up here from the
values already counted (by day, month, quarter and year, in every zone and scope), under
the metric names the worker counts them by from now on: on PostgreSQL in one statement,
on SQLite (values kept as text) here.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 19:10:00.000000
"""

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import persistence.types
from domain.analytics import value_bin

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each metric's bins, by the name they are counted under (persistence/analytics/tally.py).
BINNED = {"CHECKOUT_MS": "CHECKOUT_MS_BIN", "REDEMPTION_DAYS": "REDEMPTION_BIN"}
BINNED_BY = ("DAY", "MONTH", "QUARTER", "YEAR")

# The value cut down to two significant figures (value_bin), its magnitude from the digits'
# text: numeric log costs about 100 us a call, minutes over tens of millions of rows.
MAGNITUDE = """(CASE WHEN value >= 1 THEN length(trunc(value)::text) - 1
    ELSE -(length(substring(value::text from '\\.(0*)')) + 1) END)"""
BIN = f"""(CASE WHEN value = 0 THEN 0::numeric ELSE
    floor(value * power(10::numeric, 1 - {MAGNITUDE})) / power(10::numeric, 1 - {MAGNITUDE})
END)"""
BINS_IN_SQL = f"""
INSERT INTO rollup_values (zone, granularity, period, scope, metric, key, value, count)
SELECT zone, granularity, period, scope,
    CASE metric WHEN 'CHECKOUT_MS' THEN 'CHECKOUT_MS_BIN' ELSE 'REDEMPTION_BIN' END,
    key, {BIN}, sum(count)
FROM rollup_values
WHERE metric IN ('CHECKOUT_MS', 'REDEMPTION_DAYS')
    AND granularity IN ('DAY', 'MONTH', 'QUARTER', 'YEAR')
GROUP BY 1, 2, 3, 4, 5, 6, 7"""  # noqa: S608 (constants only)

# The table as this revision knows it (not the model, which moves on).
VALUES = sa.table(
    "rollup_values",
    sa.column("zone", sa.String()),
    sa.column("granularity", sa.String()),
    sa.column("period", sa.Date()),
    sa.column("scope", sa.String()),
    sa.column("metric", sa.String()),
    sa.column("key", sa.String()),
    sa.column("value", persistence.types.ExactPoints()),
    sa.column("count", sa.BigInteger()),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(BINS_IN_SQL)
    else:
        _bins_here()


def _bins_here() -> None:
    bind = op.get_bind()
    bins: defaultdict[tuple[object, ...], int] = defaultdict(int)
    kept = bind.execute(
        sa.select(VALUES).where(
            VALUES.c.metric.in_(list(BINNED)), VALUES.c.granularity.in_(BINNED_BY)
        )
    )
    for zone, granularity, period, scope, metric, key, value, count in kept:
        binned = value_bin(Decimal(value))
        bins[(zone, granularity, period, scope, BINNED[metric], key, binned)] += int(count)
    names = ("zone", "granularity", "period", "scope", "metric", "key", "value")
    if bins:
        bind.execute(
            sa.insert(VALUES),
            [dict(zip(names, row, strict=True)) | {"count": n} for row, n in bins.items()],
        )


def downgrade() -> None:
    op.execute(sa.delete(VALUES).where(VALUES.c.metric.in_(list(BINNED.values()))))
