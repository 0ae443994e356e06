"""Tables. Alembic migrations create them; tests migrate, never create_all."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from domain.ledger import GENESIS
from persistence.base import Base
from persistence.types import BigId, ExactPoints, Money, UtcDateTime


class StoreRow(Base):
    __tablename__ = "stores"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CustomerRow(Base):
    __tablename__ = "customers"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(120), unique=True)
    name: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(120), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32), unique=True)
    card_number: Mapped[str | None] = mapped_column(String(120), unique=True)
    balance: Mapped[int]
    balance_version: Mapped[int]
    lifetime_earned: Mapped[int]
    enrolled_at: Mapped[datetime] = mapped_column(UtcDateTime)
    points_owed: Mapped[int] = mapped_column(server_default="0")
    # Who enrolled them, for the staff view: the token's staff id, and its store when it
    # names exactly one.
    enrolled_by_staff: Mapped[str | None] = mapped_column(String(100))
    enrolled_store_id: Mapped[str | None] = mapped_column(String(32))
    # The hash of the customer's last journal entry (domain.ledger.chained_hash).
    journal_head: Mapped[str] = mapped_column(String(64), server_default=GENESIS)


class EarningRuleRow(Base):
    """Every version of every earning rule; editing adds a version, never changes one."""

    __tablename__ = "earning_rules"
    __table_args__ = (PrimaryKeyConstraint("id", "version"),)

    id: Mapped[str] = mapped_column(String(120))
    version: Mapped[int]
    is_current: Mapped[bool] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    rate: Mapped[Decimal | None] = mapped_column(Money)
    bonus_points: Mapped[int | None]
    category: Mapped[str | None] = mapped_column(String(100))
    sku: Mapped[str | None] = mapped_column(String(100))
    store_ids: Mapped[str | None] = mapped_column(Text)
    starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    days_of_week: Mapped[str | None] = mapped_column(String(20))
    from_time: Mapped[str | None] = mapped_column(String(8))
    until_time: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str] = mapped_column(String(64))
    min_spend: Mapped[Decimal | None] = mapped_column(Money)
    max_points_per_sale: Mapped[int | None]
    max_points_per_customer_per_day: Mapped[int | None]
    active: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by_staff: Mapped[str | None] = mapped_column(String(100))
    created_by_role: Mapped[str | None] = mapped_column(String(16))
    created_by_terminal: Mapped[str | None] = mapped_column(String(100))


class RewardRow(Base):
    __tablename__ = "rewards"
    __table_args__ = (CheckConstraint("points_cost > 0", name="points_cost_positive"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    points_cost: Mapped[int]
    active: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(20), server_default="VOUCHER")
    discount_amount: Mapped[Decimal | None] = mapped_column(Money)
    discount_percent: Mapped[Decimal | None] = mapped_column(Money)
    sku: Mapped[str | None] = mapped_column(String(100))
    starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    store_ids: Mapped[str | None] = mapped_column(Text)
    stock: Mapped[int | None]
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RedemptionRow(Base):
    """What the till was told to apply for points spent (a REDEEM entry)."""

    __tablename__ = "redemptions"

    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    reward_id: Mapped[str | None] = mapped_column(String(64))
    discount_amount: Mapped[Decimal | None] = mapped_column(Money)
    discount_percent: Mapped[Decimal | None] = mapped_column(Money)
    sku: Mapped[str | None] = mapped_column(String(100))
    voucher_code: Mapped[str | None] = mapped_column(String(32))


class JournalEntryRow(Base):
    __tablename__ = "journal_entries"
    __table_args__ = (
        Index("ix_journal_entries_customer_id_id", "customer_id", "id"),
        Index("ix_journal_entries_customer_id_balance_version", "customer_id", "balance_version"),
        Index("ix_journal_entries_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    points: Mapped[int]
    balance_after: Mapped[int]
    balance_version: Mapped[int]
    store_id: Mapped[str | None] = mapped_column(ForeignKey("stores.id"))
    terminal_id: Mapped[str | None] = mapped_column(String(100))
    sale_id: Mapped[str | None] = mapped_column(String(100))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    reward_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(200))
    recorded_by_staff: Mapped[str | None] = mapped_column(String(100))
    recorded_by_role: Mapped[str | None] = mapped_column(String(16))
    recorded_by_terminal: Mapped[str | None] = mapped_column(String(100))
    # When it was recorded; occurred_at is when it happened at the till (analytics count it
    # there; an offline till sends it later).
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reverses_entry_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # Chained to the customer's entry before (domain.ledger); null only if written around
    # the application, which `loyalty verify-journal` reports.
    hash: Mapped[str | None] = mapped_column(String(64))


class JournalLineRow(Base):
    __tablename__ = "journal_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    account: Mapped[str] = mapped_column(String(80), index=True)
    amount: Mapped[int]


class PeriodChangeRow(Base):
    """Every close and reopen of the books, never changed; the last says how they stand."""

    __tablename__ = "period_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(8))
    closed_until: Mapped[datetime] = mapped_column(UtcDateTime)
    previous: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(String(200))
    changed_by_staff: Mapped[str] = mapped_column(String(100))
    changed_by_role: Mapped[str] = mapped_column(String(16))
    changed_by_terminal: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class ProgrammeVersionRow(Base):
    """One row: a token that triggers on the stores and the earning rules replace with a
    random one whenever either changes, so each process can tell in a transaction whether
    its cache of them still holds (persistence/programme_cache.py). Random, not counted: a
    change rolled back leaves a token no committed state ever has."""

    __tablename__ = "programme_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


class LedgerSnapshotRow(Base):
    """Each account's balance (customers' and points owed summed) from the movements that
    happened before `at`, a moment before which nothing can be recorded any more."""

    __tablename__ = "ledger_snapshots"
    __table_args__ = (PrimaryKeyConstraint("at", "account"),)

    at: Mapped[datetime] = mapped_column(UtcDateTime)
    account: Mapped[str] = mapped_column(String(80))
    points: Mapped[int] = mapped_column(BigInteger)


class ValuationChangeRow(Base):
    """Every point value, account of the GL map and expected breakage rate an admin set, from
    when it holds, never changed: the valuation at a moment is read from them."""

    __tablename__ = "valuation_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    effective_from: Mapped[datetime] = mapped_column(UtcDateTime)
    point_value: Mapped[Decimal | None] = mapped_column(Money)
    role: Mapped[str | None] = mapped_column(String(32))
    code: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str | None] = mapped_column(String(120))
    breakage_rate: Mapped[Decimal | None] = mapped_column(Money)
    changed_by_staff: Mapped[str] = mapped_column(String(100))
    changed_by_role: Mapped[str] = mapped_column(String(16))
    changed_by_terminal: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class IdempotencyKeyRow(Base):
    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    refusal_code: Mapped[str | None] = mapped_column(String(40))
    refusal_message: Mapped[str | None] = mapped_column(String(300))
    refusal_field: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SaleRow(Base):
    __tablename__ = "sales"
    __table_args__ = (
        Index("ix_sales_store_id_occurred_at", "store_id", "occurred_at"),
        Index("ix_sales_customer_id_occurred_at", "customer_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    journal_entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    terminal_id: Mapped[str | None] = mapped_column(String(100))
    sale_ref: Mapped[str | None] = mapped_column(String(100))
    total: Mapped[Decimal] = mapped_column(Money)
    points: Mapped[int]
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    discount: Mapped[Decimal | None] = mapped_column(Money)
    redeem_entry_id: Mapped[int | None] = mapped_column(BigInteger)
    points_redeemed: Mapped[int] = mapped_column(server_default="0")
    # A checkout's: when the till began ringing it up (None: not sent), and how long it
    # took in milliseconds (occurred_at - started_at, else the server's own time).
    is_checkout: Mapped[bool] = mapped_column(server_default=text("false"))
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    processing_ms: Mapped[int | None]
    recorded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    recorded_by_staff: Mapped[str | None] = mapped_column(String(100))


class SaleLineRow(Base):
    __tablename__ = "sale_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id"), index=True)
    line_no: Mapped[int]
    sku: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)
    points_per_unit: Mapped[Decimal] = mapped_column(Money)
    earning_amount: Mapped[Decimal | None] = mapped_column(Money)
    multiplier: Mapped[Decimal | None] = mapped_column(Money)
    points: Mapped[Decimal | None] = mapped_column(ExactPoints)
    refunded_quantity: Mapped[int] = mapped_column(server_default="0")


class EarnContributionRow(Base):
    """What each rule version gave (or a cap took) towards a sale's points: the breakdown of
    "why did I get 37 points?" and what per-day caps count."""

    __tablename__ = "earn_contributions"
    __table_args__ = (
        Index(
            "ix_earn_contributions_customer_id_rule_id_occurred_at",
            "customer_id",
            "rule_id",
            "occurred_at",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id"), index=True)
    customer_id: Mapped[str] = mapped_column(String(36))
    rule_id: Mapped[str | None] = mapped_column(String(120))
    rule_version: Mapped[int | None]
    rule_name: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    line_no: Mapped[int | None]
    points: Mapped[Decimal] = mapped_column(ExactPoints)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RefundRow(Base):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id"), index=True)
    points_taken_back: Mapped[int]
    points_given_back: Mapped[int]
    points_owed: Mapped[int]
    amount_refunded: Mapped[Decimal] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RefundLineRow(Base):
    __tablename__ = "refund_lines"
    __table_args__ = (PrimaryKeyConstraint("refund_id", "line_no"),)

    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id"))
    line_no: Mapped[int]
    quantity: Mapped[int]


class BulkAwardRow(Base):
    __tablename__ = "bulk_awards"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    points: Mapped[int]
    reason: Mapped[str] = mapped_column(String(200))
    campaign_id: Mapped[str | None] = mapped_column(String(64))
    total_customers: Mapped[int]
    awarded_customers: Mapped[int]
    failed_customers: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by_staff: Mapped[str | None] = mapped_column(String(100))
    created_by_role: Mapped[str | None] = mapped_column(String(16))
    created_by_terminal: Mapped[str | None] = mapped_column(String(100))
    reverses_bulk_award_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    # The share of the segment kept out at random as a control group (0: none).
    holdout_percent: Mapped[int] = mapped_column(server_default="0")
    holdout_customers: Mapped[int] = mapped_column(server_default="0")


class BulkAwardRecipientRow(Base):
    __tablename__ = "bulk_award_recipients"
    __table_args__ = (
        Index("ix_bulk_award_recipients_status_bulk_award_id", "status", "bulk_award_id"),
        # What the workers look for: a job's pending recipients in order, however large.
        Index(
            "ix_bulk_award_recipients_pending",
            "bulk_award_id",
            "position",
            postgresql_where=text("status = 'PENDING'"),
            sqlite_where=text("status = 'PENDING'"),
        ),
        # Analytics: the campaigns a customer is in, and the job an award entry belongs to.
        Index("ix_bulk_award_recipients_customer_id", "customer_id"),
        Index("ix_bulk_award_recipients_entry_id", "entry_id"),
    )

    bulk_award_id: Mapped[str] = mapped_column(ForeignKey("bulk_awards.id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    position: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    failure_code: Mapped[str | None] = mapped_column(String(40))
    failure_message: Mapped[str | None] = mapped_column(String(200))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))


class PointLotRow(Base):
    """Points credited together, and how many of them are left: debits take the oldest
    first, and expiry takes those older than the programme allows."""

    __tablename__ = "point_lots"
    __table_args__ = (
        Index("ix_point_lots_customer_id_earned_at", "customer_id", "earned_at"),
        Index("ix_point_lots_earned_at_open", "earned_at", "remaining"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    entry_id: Mapped[int | None] = mapped_column(BigInteger)
    earned_at: Mapped[datetime] = mapped_column(UtcDateTime)
    points: Mapped[int]
    remaining: Mapped[int]


class OutboxRow(Base):
    """Balance changes committed but maybe not yet published: written in the same
    transaction as their journal entry, published after it, marked when done."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_published_at_id", "published_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TerminalDisplayRow(Base):
    """What each terminal's customer-facing display shows now."""

    __tablename__ = "terminal_displays"

    terminal_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    cart_points: Mapped[int]
    cart_total: Mapped[Decimal] = mapped_column(Money)
    version: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class GuestSaleRow(Base):
    """A sale to a shopper who is not a member: no points, no customer; it lets analytics
    compare members with non-members."""

    __tablename__ = "guest_sales"
    __table_args__ = (Index("ix_guest_sales_store_id_occurred_at", "store_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    terminal_id: Mapped[str | None] = mapped_column(String(100))
    sale_ref: Mapped[str | None] = mapped_column(String(100))
    total: Mapped[Decimal] = mapped_column(Money)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_by_staff: Mapped[str | None] = mapped_column(String(100))
    recorded_by_role: Mapped[str | None] = mapped_column(String(16))
    recorded_by_terminal: Mapped[str | None] = mapped_column(String(100))


class LotSpendRow(Base):
    """What a debit took from which lot: the age of points spent, and which campaign's
    points were redeemed."""

    __tablename__ = "lot_spends"
    __table_args__ = (Index("ix_lot_spends_entry_id", "entry_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    lot_id: Mapped[int] = mapped_column(BigInteger, index=True)
    lot_entry_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    entry_id: Mapped[int] = mapped_column(BigInteger)
    points: Mapped[int]
    earned_at: Mapped[datetime] = mapped_column(UtcDateTime)
    spent_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AnalyticsInboxRow(Base):
    """What the rollups have yet to count: written in the same transaction as the movement,
    the sale or the enrolment, deleted in the transaction that counts it."""

    __tablename__ = "analytics_inbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(64))


# The rollups (persistence/analytics/): per kept time zone, by period (a local date: the day,
# or the first day of the week or month) and scope (a store id, or "*" for the programme).


class PeriodOfScope:
    """The key most rollups start with."""

    zone: Mapped[str] = mapped_column(String(64))
    granularity: Mapped[str] = mapped_column(String(8))
    period: Mapped[date] = mapped_column(Date)
    scope: Mapped[str] = mapped_column(String(32))


# The totals' figures: what a period adds up (domain.analytics.Flow), the points' net
# change and the enrolments.
TOTALS_FIGURES = (
    "sales",
    "sales_with_redemption",
    "checkouts",
    "points_earned",
    "points_awarded",
    "points_redeemed",
    "points_expired",
    "points_reversed",
    "net_points",
    "revenue",
    "new_customers",
    "redemptions",
    "guest_sales",
    "guest_revenue",
)


class RollupTotalsRow(PeriodOfScope, Base):
    __tablename__ = "rollup_totals"
    __table_args__ = (
        PrimaryKeyConstraint("zone", "granularity", "period", "scope"),
        # A report reads one scope's run of periods: by scope before period, that run is
        # one range of the index, not every scope's rows of the run filtered (fifty stores
        # are fifty-one scopes).
        # Its figures included: read by an index-only scan, not from heap pages scattered
        # among the other scopes' rows.
        Index(
            "ix_rollup_totals_scope",
            "zone",
            "granularity",
            "scope",
            "period",
            postgresql_include=list(TOTALS_FIGURES),
        ),
    )

    sales: Mapped[int] = mapped_column(BigInteger, server_default="0")
    sales_with_redemption: Mapped[int] = mapped_column(BigInteger, server_default="0")
    checkouts: Mapped[int] = mapped_column(BigInteger, server_default="0")
    points_earned: Mapped[int] = mapped_column(BigInteger, server_default="0")
    points_awarded: Mapped[int] = mapped_column(BigInteger, server_default="0")
    points_redeemed: Mapped[int] = mapped_column(BigInteger, server_default="0")
    points_expired: Mapped[int] = mapped_column(BigInteger, server_default="0")
    points_reversed: Mapped[int] = mapped_column(BigInteger, server_default="0")
    net_points: Mapped[int] = mapped_column(BigInteger, server_default="0")
    revenue: Mapped[Decimal] = mapped_column(Money, server_default="0")
    new_customers: Mapped[int] = mapped_column(BigInteger, server_default="0")
    redemptions: Mapped[int] = mapped_column(BigInteger, server_default="0")
    guest_sales: Mapped[int] = mapped_column(BigInteger, server_default="0")
    guest_revenue: Mapped[Decimal] = mapped_column(Money, server_default="0")


# The staff table's figures, each summed over a range's rows.
STAFF_FIGURES = (
    "enrolments",
    "sales",
    "points_issued",
    "points_redeemed",
    "refunds",
    "adjustments",
)


class RollupStaffRow(Base):
    __tablename__ = "rollup_staff"
    __table_args__ = (
        PrimaryKeyConstraint("zone", "granularity", "period", "staff_id", "store_id"),
        # A long range's staff table adds up its month rows (two years: 24 months of every
        # staff member and store), read from here alone (an index-only scan), not from
        # heap pages scattered among the day rows. Month rows only: the day rows, most of
        # the table and of its writes, keep their updates HOT.
        Index(
            "ix_rollup_staff_months",
            "zone",
            "period",
            postgresql_include=[*STAFF_FIGURES, "staff_id", "store_id"],
            postgresql_where=text("granularity = 'MONTH'"),
            sqlite_where=text("granularity = 'MONTH'"),
        ),
    )

    zone: Mapped[str] = mapped_column(String(64))
    granularity: Mapped[str] = mapped_column(String(8))
    period: Mapped[date] = mapped_column(Date)
    staff_id: Mapped[str] = mapped_column(String(100))
    # "" for an enrolment under a token naming no single store.
    store_id: Mapped[str] = mapped_column(String(32))
    enrolments: Mapped[int] = mapped_column(BigInteger, server_default="0")
    sales: Mapped[int] = mapped_column(BigInteger, server_default="0")
    points_issued: Mapped[int] = mapped_column(BigInteger, server_default="0")
    points_redeemed: Mapped[int] = mapped_column(BigInteger, server_default="0")
    refunds: Mapped[int] = mapped_column(BigInteger, server_default="0")
    adjustments: Mapped[int] = mapped_column(BigInteger, server_default="0")


class RollupRewardRow(PeriodOfScope, Base):
    __tablename__ = "rollup_rewards"
    __table_args__ = (
        PrimaryKeyConstraint(
            "zone",
            "granularity",
            "period",
            "scope",
            "reward",
            # A range's rewards are summed by index-only scans.
            postgresql_include=["redemptions", "points"],
        ),
    )

    # "" for points spent as money off.
    reward: Mapped[str] = mapped_column(String(64))
    redemptions: Mapped[int] = mapped_column(BigInteger, server_default="0")
    points: Mapped[int] = mapped_column(BigInteger, server_default="0")


class RollupCustomerPeriodRow(Base):
    """That a customer had a sale in a period and scope: what active counts are made of."""

    __tablename__ = "rollup_customer_periods"
    __table_args__ = (
        # By customer first: counting a batch reads the history of its customers; by
        # period for distinct counts over several stores (an index-only scan).
        PrimaryKeyConstraint("customer_id", "zone", "granularity", "scope", "period"),
        Index(
            "ix_rollup_customer_periods_period",
            "zone",
            "granularity",
            "scope",
            "period",
            "customer_id",
        ),
    )

    zone: Mapped[str] = mapped_column(String(64))
    granularity: Mapped[str] = mapped_column(String(8))
    scope: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str] = mapped_column(String(36))
    period: Mapped[date] = mapped_column(Date)


class RollupActivityRow(PeriodOfScope, Base):
    """Active customers of a whole period, and those of them active in the period before."""

    __tablename__ = "rollup_activity"
    __table_args__ = (
        PrimaryKeyConstraint("zone", "granularity", "period", "scope"),
        Index(
            "ix_rollup_activity_scope",
            "zone",
            "granularity",
            "scope",
            "period",
            postgresql_include=["active", "retained"],
        ),
    )

    active: Mapped[int] = mapped_column(BigInteger, server_default="0")
    retained: Mapped[int] = mapped_column(BigInteger, server_default="0")


class RollupGapRow(Base):
    """Customers whose consecutive active days in a scope are `after` and `before` (the
    first day's gap starts at 0001-01-01, the last day's ends at 9999-12-31): a customer
    has no sale in [a, b) exactly when one of their gaps has after < a and before >= b."""

    __tablename__ = "rollup_gaps"
    __table_args__ = (
        PrimaryKeyConstraint("zone", "scope", "after", "before", postgresql_include=["customers"]),
        # Customers gone quiet over some days are read from the smaller of the two.
        Index(
            "ix_rollup_gaps_before",
            "zone",
            "scope",
            "before",
            "after",
            postgresql_include=["customers"],
        ),
    )

    zone: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(32))
    after: Mapped[date] = mapped_column(Date)
    before: Mapped[date] = mapped_column(Date)
    customers: Mapped[int] = mapped_column(BigInteger)


class RollupCohortRow(Base):
    __tablename__ = "rollup_cohorts"
    __table_args__ = (PrimaryKeyConstraint("zone", "scope", "cohort", "month"),)

    zone: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(32))
    cohort: Mapped[date] = mapped_column(Date)
    month: Mapped[date] = mapped_column(Date)
    customers: Mapped[int] = mapped_column(BigInteger)


class RollupValueRow(PeriodOfScope, Base):
    """How many times each value was seen (checkout times, redemption ages): exact
    percentiles of any union of periods."""

    __tablename__ = "rollup_values"
    __table_args__ = (
        PrimaryKeyConstraint(
            "zone",
            "granularity",
            "period",
            "scope",
            "metric",
            "key",
            "value",
            postgresql_include=["count"],  # summed by index-only scans
        ),
    )

    metric: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[Decimal] = mapped_column(ExactPoints)
    count: Mapped[int] = mapped_column(BigInteger)


class RollupPercentileRow(PeriodOfScope, Base):
    """The percentiles of a whole period, kept beside its values."""

    __tablename__ = "rollup_percentiles"
    __table_args__ = (
        PrimaryKeyConstraint("zone", "granularity", "period", "scope", "metric", "key"),
        # One scope's figures of a run of periods, each metric and key one range (read by
        # an index-only scan).
        Index(
            "ix_rollup_percentiles_scope",
            "zone",
            "granularity",
            "scope",
            "metric",
            "key",
            "period",
            postgresql_include=["count", "p50", "p90", "p95"],
        ),
    )

    metric: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(BigInteger)
    p50: Mapped[Decimal | None] = mapped_column(ExactPoints)
    p90: Mapped[Decimal | None] = mapped_column(ExactPoints)
    p95: Mapped[Decimal | None] = mapped_column(ExactPoints)


class RollupCampaignSaleRow(Base):
    """Each sale of a campaign's recipients and holdout, before and after the award."""

    __tablename__ = "rollup_campaign_sales"
    __table_args__ = (
        PrimaryKeyConstraint("bulk_award_id", "sale_id"),
        Index(
            "ix_rollup_campaign_sales_window",
            "bulk_award_id",
            "holdout",
            "occurred_at",
            postgresql_include=["revenue"],
        ),
    )

    bulk_award_id: Mapped[str] = mapped_column(String(36))
    sale_id: Mapped[int] = mapped_column(BigInteger)
    holdout: Mapped[bool]
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revenue: Mapped[Decimal] = mapped_column(Money)


class RollupCustomerRow(Base):
    """A customer's history as the lifetime-value figures count it (programme-wide)."""

    __tablename__ = "rollup_customers"

    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sales: Mapped[int] = mapped_column(BigInteger)
    revenue: Mapped[Decimal] = mapped_column(Money)
    points_earned: Mapped[int] = mapped_column(BigInteger)
    points_redeemed: Mapped[int] = mapped_column(BigInteger)


class RollupSegmentRow(Base):
    """Sums over the customers of one participation segment (see domain.analytics)."""

    __tablename__ = "rollup_segments"

    participation: Mapped[str] = mapped_column(String(16), primary_key=True)
    customers: Mapped[int] = mapped_column(BigInteger)
    sales: Mapped[int] = mapped_column(BigInteger)
    revenue: Mapped[Decimal] = mapped_column(Money)
    repeaters: Mapped[int] = mapped_column(BigInteger)
    x: Mapped[Decimal] = mapped_column(ExactPoints)
    y: Mapped[Decimal] = mapped_column(ExactPoints)
    xx: Mapped[Decimal] = mapped_column(ExactPoints)
    yy: Mapped[Decimal] = mapped_column(ExactPoints)
    xy: Mapped[Decimal] = mapped_column(ExactPoints)


class RollupCampaignSpendRow(Base):
    """Points of a campaign's award spent on rewards, by the spending entry."""

    __tablename__ = "rollup_campaign_spends"
    __table_args__ = (
        PrimaryKeyConstraint("bulk_award_id", "entry_id"),
        Index(
            "ix_rollup_campaign_spends_window",
            "bulk_award_id",
            "spent_at",
            postgresql_include=["points"],
        ),
    )

    bulk_award_id: Mapped[str] = mapped_column(String(36))
    entry_id: Mapped[int] = mapped_column(BigInteger)
    spent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    points: Mapped[int] = mapped_column(BigInteger)


class RollupCampaignDayRow(Base):
    """A campaign's sales and spends of one local day, from the two tables above: the
    whole days of a window are read here, its part days from those tables."""

    __tablename__ = "rollup_campaign_days"
    __table_args__ = (
        PrimaryKeyConstraint(
            "zone",
            "bulk_award_id",
            "holdout",
            "day",
            # A window's days are summed by index-only scans.
            postgresql_include=["revenue", "points_spent"],
        ),
    )

    zone: Mapped[str] = mapped_column(String(64))
    bulk_award_id: Mapped[str] = mapped_column(String(36))
    holdout: Mapped[bool]
    day: Mapped[date] = mapped_column(Date)
    revenue: Mapped[Decimal] = mapped_column(Money)
    points_spent: Mapped[int] = mapped_column(BigInteger)


# Every table above: what Alembic compares the database with, and what tests empty.
metadata = Base.metadata
