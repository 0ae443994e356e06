"""Point lots (oldest spent first, old ones expire) and reversals of bulk awards.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 16:22:06.745053
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import persistence.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "point_lots",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=True),
        sa.Column("earned_at", persistence.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_point_lots_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_lots")),
    )
    with op.batch_alter_table("point_lots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_point_lots_customer_id_earned_at", ["customer_id", "earned_at"], unique=False
        )
        batch_op.create_index(
            "ix_point_lots_earned_at_open", ["earned_at", "remaining"], unique=False
        )

    op.create_index(
        "ix_bulk_award_recipients_pending",
        "bulk_award_recipients",
        ["bulk_award_id", "position"],
        postgresql_where=sa.text("status = 'PENDING'"),
        sqlite_where=sa.text("status = 'PENDING'"),
    )
    with op.batch_alter_table("bulk_awards", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reverses_bulk_award_id", sa.String(length=36), nullable=True)
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_bulk_awards_reverses_bulk_award_id"), ["reverses_bulk_award_id"]
        )

    # Balances from before lots existed become one lot each, earned now: no customer
    # loses points the moment expiry is switched on.
    lots = sa.table(
        "point_lots",
        sa.column("customer_id", sa.String),
        sa.column("earned_at", persistence.types.UtcDateTime(timezone=True)),
        sa.column("points", sa.Integer),
        sa.column("remaining", sa.Integer),
    )
    customers = sa.table("customers", sa.column("id", sa.String), sa.column("balance", sa.Integer))
    now = sa.bindparam("now", datetime.now(UTC), type_=persistence.types.UtcDateTime(timezone=True))
    op.execute(
        lots.insert().from_select(
            ["customer_id", "earned_at", "points", "remaining"],
            sa.select(customers.c.id, now, customers.c.balance, customers.c.balance).where(
                customers.c.balance > 0
            ),
        )
    )


def downgrade() -> None:
    op.drop_index("ix_bulk_award_recipients_pending", table_name="bulk_award_recipients")
    with op.batch_alter_table("bulk_awards", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_bulk_awards_reverses_bulk_award_id"), type_="unique"
        )
        batch_op.drop_column("reverses_bulk_award_id")

    with op.batch_alter_table("point_lots", schema=None) as batch_op:
        batch_op.drop_index("ix_point_lots_earned_at_open")
        batch_op.drop_index("ix_point_lots_customer_id_earned_at")

    op.drop_table("point_lots")
