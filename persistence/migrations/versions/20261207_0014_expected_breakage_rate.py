"""An expected breakage rate among the valuation's changes (null on the rows that set a
point value or an account).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import persistence.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("valuation_changes") as table:
        table.add_column(sa.Column("breakage_rate", persistence.types.Money(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("valuation_changes") as table:
        table.drop_column("breakage_rate")
