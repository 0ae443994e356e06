"""The points ledger: stores, customers, rates, rewards, journal, sales, idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 13:50:49.503356
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import persistence.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "category_rates",
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column(
            "points_per_unit", persistence.types.Money(precision=18, scale=4), nullable=False
        ),
        sa.Column("updated_at", persistence.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("category", name=op.f("pk_category_rates")),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("external_id", sa.String(length=120), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("email", sa.String(length=120), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("card_number", sa.String(length=120), nullable=True),
        sa.Column("balance", sa.Integer(), nullable=False),
        sa.Column("balance_version", sa.Integer(), nullable=False),
        sa.Column("lifetime_earned", sa.Integer(), nullable=False),
        sa.Column("enrolled_at", persistence.types.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_customers_balance_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("card_number", name=op.f("uq_customers_card_number")),
        sa.UniqueConstraint("email", name=op.f("uq_customers_email")),
        sa.UniqueConstraint("external_id", name=op.f("uq_customers_external_id")),
        sa.UniqueConstraint("phone", name=op.f("uq_customers_phone")),
    )
    op.create_table(
        "rewards",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("points_cost", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", persistence.types.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("points_cost > 0", name=op.f("ck_rewards_points_cost_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards")),
    )
    op.create_table(
        "stores",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", persistence.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stores")),
    )
    op.create_table(
        "journal_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("balance_version", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.String(length=32), nullable=True),
        sa.Column("terminal_id", sa.String(length=100), nullable=True),
        sa.Column("sale_id", sa.String(length=100), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("reward_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", persistence.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_journal_entries_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_journal_entries_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
    )
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_journal_entries_customer_id_balance_version",
            ["customer_id", "balance_version"],
            unique=False,
        )
        batch_op.create_index(
            "ix_journal_entries_customer_id_id", ["customer_id", "id"], unique=False
        )

    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("refusal_code", sa.String(length=40), nullable=True),
        sa.Column("refusal_message", sa.String(length=300), nullable=True),
        sa.Column("refusal_field", sa.String(length=200), nullable=True),
        sa.Column("created_at", persistence.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_idempotency_keys_entry_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "journal_lines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account", sa.String(length=80), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_journal_lines_entry_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_lines")),
    )
    with op.batch_alter_table("journal_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journal_lines_account"), ["account"], unique=False)
        batch_op.create_index(batch_op.f("ix_journal_lines_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "sales",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "journal_entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("store_id", sa.String(length=32), nullable=False),
        sa.Column("terminal_id", sa.String(length=100), nullable=True),
        sa.Column("sale_ref", sa.String(length=100), nullable=True),
        sa.Column("total", persistence.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("occurred_at", persistence.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_sales_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["journal_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_sales_journal_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_sales_store_id_stores")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales")),
        sa.UniqueConstraint("journal_entry_id", name=op.f("uq_sales_journal_entry_id")),
    )
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sales_customer_id_occurred_at", ["customer_id", "occurred_at"], unique=False
        )
        batch_op.create_index(
            "ix_sales_store_id_occurred_at", ["store_id", "occurred_at"], unique=False
        )

    op.create_table(
        "sale_lines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("sale_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", persistence.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("amount", persistence.types.Money(precision=18, scale=4), nullable=False),
        sa.Column(
            "points_per_unit", persistence.types.Money(precision=18, scale=4), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["sales.id"], name=op.f("fk_sale_lines_sale_id_sales")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sale_lines")),
    )
    with op.batch_alter_table("sale_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sale_lines_sale_id"), ["sale_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sale_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sale_lines_sale_id"))

    op.drop_table("sale_lines")
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_index("ix_sales_store_id_occurred_at")
        batch_op.drop_index("ix_sales_customer_id_occurred_at")

    op.drop_table("sales")
    with op.batch_alter_table("journal_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_lines_entry_id"))
        batch_op.drop_index(batch_op.f("ix_journal_lines_account"))

    op.drop_table("journal_lines")
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_journal_entries_customer_id_id")
        batch_op.drop_index("ix_journal_entries_customer_id_balance_version")

    op.drop_table("journal_entries")
    op.drop_table("stores")
    op.drop_table("rewards")
    op.drop_table("customers")
    op.drop_table("category_rates")
