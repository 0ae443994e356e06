"""The journal made tamper-evident and append-only in the database.

Each entry gets the hash of its content chained to its customer's entry before it, and
each customer the hash of their last entry (domain.ledger.chained_hash); the entries
already there are chained here, customer by customer in id order, the order they were
posted in under the account lock. Then triggers refuse every UPDATE and DELETE of an
entry or a line, on PostgreSQL and on SQLite.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 22:30:00.000000
"""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import persistence.types
from domain.ledger import (
    GENESIS,
    Actor,
    JournalEntry,
    JournalLine,
    Movement,
    TransactionKind,
    chained_hash,
)

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CUSTOMERS_A_BATCH = 1_000
TABLES = ("journal_entries", "journal_lines")

# The tables as this revision knows them (not the models, which move on).
CUSTOMERS = sa.table("customers", sa.column("id", sa.String()), sa.column("journal_head"))
ENTRIES = sa.table(
    "journal_entries",
    *(sa.column(name) for name in ("id", "kind", "customer_id", "points", "balance_after")),
    *(sa.column(name) for name in ("balance_version", "store_id", "terminal_id", "sale_id")),
    *(sa.column(name) for name in ("idempotency_key", "reward_id", "reason")),
    *(sa.column(f"recorded_by_{name}") for name in ("staff", "role", "terminal")),
    sa.column("created_at", persistence.types.UtcDateTime()),
    sa.column("occurred_at", persistence.types.UtcDateTime()),
    sa.column("reverses_entry_id"),
    sa.column("hash"),
)
LINES = sa.table(
    "journal_lines",
    sa.column("id"),
    sa.column("entry_id"),
    sa.column("account"),
    sa.column("amount"),
)

REFUSE_FUNCTION = """
CREATE FUNCTION loyalty_refuse_journal_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the points journal is append-only: % of % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$"""
PG_TRIGGER = """CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION loyalty_refuse_journal_change()"""
SQLITE_TRIGGER = """CREATE TRIGGER {table}_append_only_{verb} BEFORE {verb} ON {table}
BEGIN SELECT RAISE(ABORT, 'the points journal is append-only: {verb} of {table} refused'); END"""


def upgrade() -> None:
    op.add_column("journal_entries", sa.Column("hash", sa.String(64), nullable=True))
    op.add_column(
        "customers",
        sa.Column("journal_head", sa.String(64), nullable=False, server_default=GENESIS),
    )
    _chain_the_entries_there()
    _refuse_updates_and_deletes()


def _chain_the_entries_there() -> None:
    bind = op.get_bind()
    after = ""
    while ids := _customers_after(bind, after):
        heads, hashes = _chained(bind, ids)
        if hashes:
            bind.execute(
                ENTRIES.update().where(ENTRIES.c.id == sa.bindparam("key")),
                [{"key": key, "hash": value} for key, value in hashes.items()],
            )
        if heads:
            bind.execute(
                CUSTOMERS.update().where(CUSTOMERS.c.id == sa.bindparam("key")),
                [{"key": key, "journal_head": value} for key, value in heads.items()],
            )
        after = ids[-1]


def _customers_after(bind: sa.Connection, after: str) -> list[str]:
    query = (
        sa.select(CUSTOMERS.c.id)
        .where(CUSTOMERS.c.id > after)
        .order_by(CUSTOMERS.c.id)
        .limit(CUSTOMERS_A_BATCH)
    )
    return list(bind.execute(query).scalars())


def _chained(bind: sa.Connection, ids: list[str]) -> tuple[dict[str, str], dict[int, str]]:
    """Each customer's last hash, and each entry's hash."""
    lines = _lines_of(bind, ids)
    entries = bind.execute(
        sa.select(ENTRIES)
        .where(ENTRIES.c.customer_id.in_(ids))
        .order_by(ENTRIES.c.customer_id, ENTRIES.c.id)
    )
    heads: dict[str, str] = {}
    hashes: dict[int, str] = {}
    for row in entries:
        previous = heads.get(row.customer_id, GENESIS)
        hashes[row.id] = heads[row.customer_id] = chained_hash(
            previous, _entry_of(row, lines[row.id])
        )
    return heads, hashes


def _lines_of(bind: sa.Connection, ids: list[str]) -> dict[int, list[JournalLine]]:
    found = bind.execute(
        sa.select(LINES.c.entry_id, LINES.c.account, LINES.c.amount)
        .join(ENTRIES, ENTRIES.c.id == LINES.c.entry_id)
        .where(ENTRIES.c.customer_id.in_(ids))
        .order_by(LINES.c.id)
    )
    lines: defaultdict[int, list[JournalLine]] = defaultdict(list)
    for entry_id, account, amount in found:
        lines[entry_id].append(JournalLine(account, amount))
    return lines


def _entry_of(row: Any, lines: list[JournalLine]) -> JournalEntry:
    actor = None
    if row.recorded_by_staff is not None and row.recorded_by_role is not None:
        actor = Actor(row.recorded_by_staff, row.recorded_by_role, row.recorded_by_terminal)
    movement = Movement(
        store_id=row.store_id,
        terminal_id=row.terminal_id,
        sale_id=row.sale_id,
        idempotency_key=row.idempotency_key,
        occurred_at=row.occurred_at,
        actor=actor,
        reason=row.reason,
        recorded_at=row.created_at,
    )
    return JournalEntry(
        kind=TransactionKind(row.kind),
        customer_id=row.customer_id,
        points=row.points,
        balance_after=row.balance_after,
        balance_version=row.balance_version,
        movement=movement,
        lines=tuple(lines),
        reward_id=row.reward_id,
        reverses_entry_id=row.reverses_entry_id,
    )


def _refuse_updates_and_deletes() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(REFUSE_FUNCTION)
        for table in TABLES:
            op.execute(PG_TRIGGER.format(table=table))
        return
    for table in TABLES:
        for verb in ("UPDATE", "DELETE"):
            op.execute(SQLITE_TRIGGER.format(table=table, verb=verb))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION loyalty_refuse_journal_change()")
    else:
        for table in TABLES:
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"DROP TRIGGER {table}_append_only_{verb}")
    with op.batch_alter_table("customers") as customers:
        customers.drop_column("journal_head")
    with op.batch_alter_table("journal_entries") as entries:
        entries.drop_column("hash")
