"""Audit: who made each journal entry and bulk award (from their token), and why.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 14:17:56.127793
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bulk_awards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by_staff", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("created_by_role", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("created_by_terminal", sa.String(length=100), nullable=True))

    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("recorded_by_staff", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("recorded_by_role", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("recorded_by_terminal", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_column("recorded_by_terminal")
        batch_op.drop_column("recorded_by_role")
        batch_op.drop_column("recorded_by_staff")
        batch_op.drop_column("reason")

    with op.batch_alter_table("bulk_awards", schema=None) as batch_op:
        batch_op.drop_column("created_by_terminal")
        batch_op.drop_column("created_by_role")
        batch_op.drop_column("created_by_staff")
