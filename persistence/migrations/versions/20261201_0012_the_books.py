"""The books' closes and reopens, kept one row each; the trial balance's snapshots; and
every point value and GL account an admin set.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import persistence.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "period_changes",
        sa.Column("id", persistence.types.BigId, autoincrement=True, nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("closed_until", persistence.types.UtcDateTime(), nullable=False),
        sa.Column("previous", persistence.types.UtcDateTime(), nullable=True),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("changed_by_staff", sa.String(100), nullable=False),
        sa.Column("changed_by_role", sa.String(16), nullable=False),
        sa.Column("changed_by_terminal", sa.String(100), nullable=True),
        sa.Column("at", persistence.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_period_changes")),
    )
    op.create_table(
        "valuation_changes",
        sa.Column("id", persistence.types.BigId, autoincrement=True, nullable=False),
        sa.Column("effective_from", persistence.types.UtcDateTime(), nullable=False),
        sa.Column("point_value", persistence.types.Money(), nullable=True),
        sa.Column("role", sa.String(32), nullable=True),
        sa.Column("code", sa.String(40), nullable=True),
        sa.Column("name", sa.String(120), nullable=True),
        sa.Column("changed_by_staff", sa.String(100), nullable=False),
        sa.Column("changed_by_role", sa.String(16), nullable=False),
        sa.Column("changed_by_terminal", sa.String(100), nullable=True),
        sa.Column("at", persistence.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_valuation_changes")),
    )
    op.create_table(
        "ledger_snapshots",
        sa.Column("at", persistence.types.UtcDateTime(), nullable=False),
        sa.Column("account", sa.String(80), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("at", "account", name=op.f("pk_ledger_snapshots")),
    )


def downgrade() -> None:
    op.drop_table("ledger_snapshots")
    op.drop_table("valuation_changes")
    op.drop_table("period_changes")
