"""Customer-facing displays: what each terminal shows now.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 15:11:45.143545
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import persistence.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "terminal_displays",
        sa.Column("terminal_id", sa.String(length=100), nullable=False),
        sa.Column("store_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=True),
        sa.Column("cart_points", sa.Integer(), nullable=False),
        sa.Column("cart_total", persistence.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", persistence.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_terminal_displays_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_terminal_displays_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("terminal_id", name=op.f("pk_terminal_displays")),
    )


def downgrade() -> None:
    op.drop_table("terminal_displays")
