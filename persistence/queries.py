"""The read side: plain selects into small frozen views for the GraphQL queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.bulk_awards import BulkAward, RecipientFailure, RecipientStatus
from domain.customers import Customer
from domain.displays import Display
from domain.ledger import Actor, PostedEntry
from domain.stores import Store
from persistence.bulk_awards import bulk_award_of
from persistence.displays import display_of
from persistence.models import (
    BulkAwardRecipientRow,
    BulkAwardRow,
    CustomerRow,
    JournalEntryRow,
    StoreRow,
    TerminalDisplayRow,
)
from persistence.repositories import posted_entry

LOOKUP_COLUMNS = {
    "id": CustomerRow.id,
    "external_id": CustomerRow.external_id,
    "email": CustomerRow.email,
    "phone": CustomerRow.phone,
    "card_number": CustomerRow.card_number,
}


@dataclass(frozen=True)
class CustomerView:
    id: str
    external_id: str | None
    name: str | None
    email: str | None
    phone: str | None
    card_number: str | None
    balance: int
    balance_version: int
    lifetime_earned: int
    enrolled_at: datetime
    points_owed: int = 0

    @classmethod
    def of(cls, customer: Customer) -> CustomerView:
        ids, account = customer.identifiers, customer.account
        return cls(
            id=customer.id,
            external_id=ids.external_id,
            name=customer.name,
            email=ids.email,
            phone=ids.phone,
            card_number=ids.card_number,
            balance=account.balance,
            balance_version=account.balance_version,
            lifetime_earned=account.lifetime_earned,
            enrolled_at=customer.enrolled_at,
            points_owed=account.points_owed,
        )


@dataclass(frozen=True)
class TransactionView:
    id: int
    kind: str
    points: int
    balance_after: int
    balance_version: int
    customer_id: str
    store_id: str | None
    terminal_id: str | None
    sale_id: str | None
    idempotency_key: str | None
    created_at: datetime
    reason: str | None = None
    recorded_by: Actor | None = None
    reverses_entry_id: int | None = None

    @classmethod
    def of(cls, posted: PostedEntry) -> TransactionView:
        entry, movement = posted.entry, posted.entry.movement
        return cls(
            id=posted.id,
            kind=entry.kind.value,
            points=entry.points,
            balance_after=entry.balance_after,
            balance_version=entry.balance_version,
            customer_id=entry.customer_id,
            store_id=movement.store_id,
            terminal_id=movement.terminal_id,
            sale_id=movement.sale_id,
            idempotency_key=movement.idempotency_key,
            created_at=movement.occurred_at,
            reason=movement.reason,
            recorded_by=movement.actor,
            reverses_entry_id=entry.reverses_entry_id,
        )


@dataclass(frozen=True)
class TransactionPage:
    transactions: Sequence[TransactionView]
    has_next_page: bool


def _customer_view(row: CustomerRow) -> CustomerView:
    return CustomerView(
        id=row.id,
        external_id=row.external_id,
        name=row.name,
        email=row.email,
        phone=row.phone,
        card_number=row.card_number,
        balance=row.balance,
        balance_version=row.balance_version,
        lifetime_earned=row.lifetime_earned,
        enrolled_at=row.enrolled_at,
        points_owed=row.points_owed,
    )


def _transaction_view(row: JournalEntryRow) -> TransactionView:
    # A view shows no journal lines, so the entry is rebuilt without them.
    return TransactionView.of(posted_entry(row, ()))


async def customer_by(session: AsyncSession, identifier: str, value: str) -> CustomerView | None:
    """The customer whose `identifier` (a key of LOOKUP_COLUMNS) equals the normalised value."""
    query = select(CustomerRow).where(LOOKUP_COLUMNS[identifier] == value)
    row = (await session.execute(query)).scalar_one_or_none()
    return None if row is None else _customer_view(row)


async def customers_by_ids(
    session: AsyncSession, customer_ids: Sequence[str]
) -> dict[str, CustomerView]:
    rows = await session.execute(select(CustomerRow).where(CustomerRow.id.in_(customer_ids)))
    return {row.id: _customer_view(row) for row in rows.scalars()}


async def transactions_page(
    session: AsyncSession, customer_id: str, first: int, before_id: int | None
) -> TransactionPage:
    """Newest first: the entry id orders a customer's entries, as they lock the account."""
    query = (
        select(JournalEntryRow)
        .where(JournalEntryRow.customer_id == customer_id)
        .order_by(JournalEntryRow.id.desc())
        .limit(first + 1)
    )
    if before_id is not None:
        query = query.where(JournalEntryRow.id < before_id)
    rows = list((await session.execute(query)).scalars())
    return TransactionPage([_transaction_view(row) for row in rows[:first]], len(rows) > first)


async def transactions_after_version(
    session: AsyncSession, customer_id: str, after_version: int
) -> list[TransactionView]:
    """Balance changes after a version, oldest first: how a subscriber fills a gap."""
    query = (
        select(JournalEntryRow)
        .where(
            JournalEntryRow.customer_id == customer_id,
            JournalEntryRow.balance_version > after_version,
            JournalEntryRow.points != 0,
        )
        .order_by(JournalEntryRow.balance_version)
    )
    return [_transaction_view(row) for row in (await session.execute(query)).scalars()]


async def stores(session: AsyncSession) -> list[Store]:
    rows = await session.execute(select(StoreRow).order_by(StoreRow.id))
    return [Store(id=row.id, name=row.name) for row in rows.scalars()]


async def bulk_award(session: AsyncSession, bulk_award_id: str) -> BulkAward | None:
    row = await session.get(BulkAwardRow, bulk_award_id)
    return None if row is None else bulk_award_of(row)


async def bulk_award_failures(
    session: AsyncSession, bulk_award_id: str, limit: int
) -> list[RecipientFailure]:
    query = (
        select(BulkAwardRecipientRow)
        .where(
            BulkAwardRecipientRow.bulk_award_id == bulk_award_id,
            BulkAwardRecipientRow.status == RecipientStatus.FAILED.value,
        )
        .order_by(BulkAwardRecipientRow.position)
        .limit(limit)
    )
    return [
        RecipientFailure(row.customer_id, str(row.failure_code), str(row.failure_message))
        for row in (await session.execute(query)).scalars()
    ]


async def latest_entry_id(session: AsyncSession, store_id: str) -> int:
    query = select(func.max(JournalEntryRow.id)).where(JournalEntryRow.store_id == store_id)
    return int(await session.scalar(query) or 0)


async def store_transactions_after(
    session: AsyncSession, store_id: str, after_id: int, limit: int
) -> list[TransactionView]:
    """A store's points transactions after an entry id, oldest first (a feed's catch-up)."""
    query = (
        select(JournalEntryRow)
        .where(
            JournalEntryRow.store_id == store_id,
            JournalEntryRow.id > after_id,
            JournalEntryRow.points != 0,
        )
        .order_by(JournalEntryRow.id)
        .limit(limit)
    )
    return [_transaction_view(row) for row in (await session.execute(query)).scalars()]


@dataclass(frozen=True)
class DisplayView:
    display: Display
    customer_name: str | None
    balance: int | None


async def display_view(session: AsyncSession, terminal_id: str) -> DisplayView | None:
    row = await session.get(TerminalDisplayRow, terminal_id)
    if row is None:
        return None
    customer = None if row.customer_id is None else await session.get(CustomerRow, row.customer_id)
    return DisplayView(
        display=display_of(row),
        customer_name=None if customer is None else customer.name,
        balance=None if customer is None else customer.balance,
    )
