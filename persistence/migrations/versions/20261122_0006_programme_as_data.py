"""The programme as data: versioned earning rules (category rates become rules),
reward kinds and redemptions, checkout's spend on a sale, refunds, points owed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 15:52:06.941978
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import persistence.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "earning_rules",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("rate", persistence.types.Money(precision=18, scale=4), nullable=True),
        sa.Column("bonus_points", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("store_ids", sa.Text(), nullable=True),
        sa.Column("starts_at", persistence.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("ends_at", persistence.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("days_of_week", sa.String(length=20), nullable=True),
        sa.Column("from_time", sa.String(length=8), nullable=True),
        sa.Column("until_time", sa.String(length=8), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("min_spend", persistence.types.Money(precision=18, scale=4), nullable=True),
        sa.Column("max_points_per_sale", sa.Integer(), nullable=True),
        sa.Column("max_points_per_customer_per_day", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", persistence.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by_staff", sa.String(length=100), nullable=True),
        sa.Column("created_by_role", sa.String(length=16), nullable=True),
        sa.Column("created_by_terminal", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", "version", name=op.f("pk_earning_rules")),
    )
    with op.batch_alter_table("earning_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_earning_rules_is_current"), ["is_current"], unique=False
        )

    op.create_table(
        "redemptions",
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reward_id", sa.String(length=64), nullable=True),
        sa.Column("discount_amount", persistence.types.Money(precision=18, scale=4), nullable=True),
        sa.Column(
            "discount_percent", persistence.types.Money(precision=18, scale=4), nullable=True
        ),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("voucher_code", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_redemptions_entry_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_redemptions")),
    )
    op.create_table(
        "earn_contributions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("sale_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("rule_id", sa.String(length=120), nullable=True),
        sa.Column("rule_version", sa.Integer(), nullable=True),
        sa.Column("rule_name", sa.String(length=100), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=True),
        sa.Column("points", persistence.types.ExactPoints(precision=36, scale=12), nullable=False),
        sa.Column("occurred_at", persistence.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["sales.id"], name=op.f("fk_earn_contributions_sale_id_sales")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_earn_contributions")),
    )
    with op.batch_alter_table("earn_contributions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_earn_contributions_customer_id_rule_id_occurred_at",
            ["customer_id", "rule_id", "occurred_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_earn_contributions_sale_id"), ["sale_id"], unique=False
        )

    op.create_table(
        "refunds",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sale_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("points_taken_back", sa.Integer(), nullable=False),
        sa.Column("points_given_back", sa.Integer(), nullable=False),
        sa.Column("points_owed", sa.Integer(), nullable=False),
        sa.Column(
            "amount_refunded", persistence.types.Money(precision=18, scale=4), nullable=False
        ),
        sa.Column("created_at", persistence.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_refunds_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(["sale_id"], ["sales.id"], name=op.f("fk_refunds_sale_id_sales")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_refunds_entry_id")),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refunds_sale_id"), ["sale_id"], unique=False)

    op.create_table(
        "refund_lines",
        sa.Column(
            "refund_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refunds.id"], name=op.f("fk_refund_lines_refund_id_refunds")
        ),
        sa.PrimaryKeyConstraint("refund_id", "line_no", name=op.f("pk_refund_lines")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("points_owed", sa.Integer(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reverses_entry_id", sa.BigInteger(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_journal_entries_reverses_entry_id"), ["reverses_entry_id"], unique=False
        )

    with op.batch_alter_table("rewards", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), server_default="VOUCHER", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "discount_amount", persistence.types.Money(precision=18, scale=4), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "discount_percent", persistence.types.Money(precision=18, scale=4), nullable=True
            )
        )
        batch_op.add_column(sa.Column("sku", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("starts_at", persistence.types.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("ends_at", persistence.types.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("store_ids", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("stock", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("updated_at", persistence.types.UtcDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("sale_lines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "earning_amount", persistence.types.Money(precision=18, scale=4), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("multiplier", persistence.types.Money(precision=18, scale=4), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "points", persistence.types.ExactPoints(precision=36, scale=12), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("refunded_quantity", sa.Integer(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("discount", persistence.types.Money(precision=18, scale=4), nullable=True)
        )
        batch_op.add_column(sa.Column("redeem_entry_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("points_redeemed", sa.Integer(), server_default="0", nullable=False)
        )

    # Each category rate becomes version 1 of a category-rate rule, with the same rate.
    op.execute(
        "INSERT INTO earning_rules (id, version, is_current, name, kind, rate, category,"
        " timezone, active, created_at)"
        " SELECT 'category-' || category, 1, true, 'Category ' || category, 'CATEGORY_RATE',"
        " points_per_unit, category, 'UTC', true, updated_at FROM category_rates"
    )
    op.drop_table("category_rates")


def downgrade() -> None:
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_column("points_redeemed")
        batch_op.drop_column("redeem_entry_id")
        batch_op.drop_column("discount")

    with op.batch_alter_table("sale_lines", schema=None) as batch_op:
        batch_op.drop_column("refunded_quantity")
        batch_op.drop_column("points")
        batch_op.drop_column("multiplier")
        batch_op.drop_column("earning_amount")

    with op.batch_alter_table("rewards", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("stock")
        batch_op.drop_column("store_ids")
        batch_op.drop_column("ends_at")
        batch_op.drop_column("starts_at")
        batch_op.drop_column("sku")
        batch_op.drop_column("discount_percent")
        batch_op.drop_column("discount_amount")
        batch_op.drop_column("kind")

    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_entries_reverses_entry_id"))
        batch_op.drop_column("reverses_entry_id")

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("points_owed")

    op.create_table(
        "category_rates",
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column(
            "points_per_unit", persistence.types.Money(precision=18, scale=4), nullable=False
        ),
        sa.Column("updated_at", persistence.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("category", name=op.f("pk_category_rates")),
    )
    # Current, active category rates that apply everywhere and always go back to the table.
    op.execute(
        "INSERT INTO category_rates (category, points_per_unit, updated_at)"
        " SELECT category, rate, created_at FROM earning_rules"
        " WHERE is_current AND active AND kind = 'CATEGORY_RATE' AND store_ids IS NULL"
        " AND starts_at IS NULL AND ends_at IS NULL AND days_of_week IS NULL"
        " AND from_time IS NULL"
    )
    op.drop_table("refund_lines")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_sale_id"))

    op.drop_table("refunds")
    with op.batch_alter_table("earn_contributions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_earn_contributions_sale_id"))
        batch_op.drop_index("ix_earn_contributions_customer_id_rule_id_occurred_at")

    op.drop_table("earn_contributions")
    op.drop_table("redemptions")
    with op.batch_alter_table("earning_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_earning_rules_is_current"))

    op.drop_table("earning_rules")
