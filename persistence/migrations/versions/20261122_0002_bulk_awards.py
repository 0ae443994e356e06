"""Bulk awards: a job per award and its recipients, each awarded exactly once.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 13:57:53.945151
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import persistence.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bulk_awards",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=True),
        sa.Column("total_customers", sa.Integer(), nullable=False),
        sa.Column("awarded_customers", sa.Integer(), nullable=False),
        sa.Column("failed_customers", sa.Integer(), nullable=False),
        sa.Column("created_at", persistence.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", persistence.types.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_awards")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_bulk_awards_idempotency_key")),
    )
    with op.batch_alter_table("bulk_awards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bulk_awards_status"), ["status"], unique=False)

    op.create_table(
        "bulk_award_recipients",
        sa.Column("bulk_award_id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failure_code", sa.String(length=40), nullable=True),
        sa.Column("failure_message", sa.String(length=200), nullable=True),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["bulk_award_id"],
            ["bulk_awards.id"],
            name=op.f("fk_bulk_award_recipients_bulk_award_id_bulk_awards"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_bulk_award_recipients_entry_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint(
            "bulk_award_id", "customer_id", name=op.f("pk_bulk_award_recipients")
        ),
    )
    with op.batch_alter_table("bulk_award_recipients", schema=None) as batch_op:
        batch_op.create_index(
            "ix_bulk_award_recipients_status_bulk_award_id",
            ["status", "bulk_award_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("bulk_award_recipients", schema=None) as batch_op:
        batch_op.drop_index("ix_bulk_award_recipients_status_bulk_award_id")

    op.drop_table("bulk_award_recipients")
    with op.batch_alter_table("bulk_awards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulk_awards_status"))

    op.drop_table("bulk_awards")
