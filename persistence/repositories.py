"""Repositories over one session: the write side of the use cases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts import Account
from domain.customers import Customer
from domain.errors import DomainError, DuplicateCustomer, DuplicateStore
from domain.ledger import (
    Actor,
    JournalEntry,
    JournalLine,
    Movement,
    PostedEntry,
    TransactionKind,
)
from domain.ports import StoredOutcome
from domain.stores import Store
from persistence import lots
from persistence.models import (
    Base,
    CustomerRow,
    IdempotencyKeyRow,
    JournalEntryRow,
    JournalLineRow,
    StoreRow,
    table_of,
)


def insert_or_ignore(session: AsyncSession, model: type[Base]) -> Any:
    """INSERT ... ON CONFLICT, in the dialect of the session's database (both have it)."""
    dialect = session.bind.dialect.name if session.bind else "postgresql"
    return (sqlite if dialect == "sqlite" else postgresql).insert(model)


IDENTIFIER_FIELDS = {
    "external_id": "externalId",
    "email": "email",
    "phone": "phone",
    "card_number": "cardNumber",
}


class SqlAlchemyStoreRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, store_id: str) -> Store | None:
        row = await self.session.get(StoreRow, store_id)
        return None if row is None else Store(id=row.id, name=row.name)

    async def add(self, store: Store) -> None:
        if await self.session.get(StoreRow, store.id) is not None:
            raise DuplicateStore(f"store {store.id!r} exists already", ("input", "id"))
        self.session.add(StoreRow(id=store.id, name=store.name, created_at=datetime.now(UTC)))
        try:
            await self.session.flush()
        except IntegrityError:
            raise DuplicateStore(f"store {store.id!r} exists already", ("input", "id")) from None


class SqlAlchemyCustomerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, customer: Customer) -> None:
        given = customer.identifiers.given()
        for column, value in given.items():
            taken = select(CustomerRow.id).where(getattr(CustomerRow, column) == value)
            if (await self.session.execute(taken)).first() is not None:
                raise _duplicate(column)
        self.session.add(_customer_row(customer))
        try:
            await self.session.flush()
        except IntegrityError:
            # Another enrolment took an identifier between the check and the insert.
            raise DuplicateCustomer("an identifier is taken by another customer") from None

    async def lock_account(self, customer_id: str) -> Account | None:
        query = select(CustomerRow).where(CustomerRow.id == customer_id).with_for_update()
        row = (await self.session.execute(query)).scalar_one_or_none()
        return None if row is None else _account(row)

    async def lock_accounts(
        self, customer_ids: Sequence[str], *, skip_locked: bool = False
    ) -> dict[str, Account]:
        query = (
            select(*ACCOUNT_COLUMNS)
            .where(CustomerRow.id.in_(customer_ids))
            .order_by(CustomerRow.id)
            .with_for_update(skip_locked=skip_locked)
        )
        rows = await self.session.execute(query)
        return {row.id: Account(*row) for row in rows}

    async def account(self, customer_id: str) -> Account | None:
        query = select(CustomerRow).where(CustomerRow.id == customer_id)
        row = (await self.session.execute(query)).scalar_one_or_none()
        return None if row is None else _account(row)

    async def save_account(self, account: Account) -> None:
        await self.session.execute(
            update(CustomerRow)
            .where(CustomerRow.id == account.customer_id)
            .values(
                balance=account.balance,
                balance_version=account.balance_version,
                lifetime_earned=account.lifetime_earned,
                points_owed=account.points_owed,
            )
        )

    async def save_accounts(self, accounts: Sequence[Account]) -> None:
        if not accounts:
            return
        table = table_of(CustomerRow)
        statement = (
            update(table)
            .where(table.c.id == bindparam("key_id"))
            .values({column: bindparam(f"new_{column}") for column in ACCOUNT_VALUES})
        )
        await self.session.execute(statement, [_account_values(a) for a in accounts])


ACCOUNT_VALUES = ("balance", "balance_version", "lifetime_earned", "points_owed")
ACCOUNT_COLUMNS = (CustomerRow.id, *(getattr(CustomerRow, name) for name in ACCOUNT_VALUES))


def _account_values(account: Account) -> dict[str, Any]:
    """Bind names differ from the columns, as an UPDATE by key needs."""
    values = {f"new_{name}": getattr(account, name) for name in ACCOUNT_VALUES}
    return {"key_id": account.customer_id, **values}


def _duplicate(column: str) -> DuplicateCustomer:
    name = IDENTIFIER_FIELDS[column]
    return DuplicateCustomer(f"another customer already has this {name}", ("input", name))


def _customer_row(customer: Customer) -> CustomerRow:
    ids = customer.identifiers
    return CustomerRow(
        id=customer.id,
        external_id=ids.external_id,
        name=customer.name,
        email=ids.email,
        phone=ids.phone,
        card_number=ids.card_number,
        balance=customer.account.balance,
        balance_version=customer.account.balance_version,
        lifetime_earned=customer.account.lifetime_earned,
        points_owed=customer.account.points_owed,
        enrolled_at=customer.enrolled_at,
    )


def _account(row: CustomerRow) -> Account:
    return Account(row.id, row.balance, row.balance_version, row.lifetime_earned, row.points_owed)


class SqlAlchemyJournalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entry: JournalEntry) -> PostedEntry:
        return (await self.add_many([entry]))[0]

    async def add_many(self, entries: Sequence[JournalEntry]) -> list[PostedEntry]:
        if not entries:
            return []
        ids = await self.session.scalars(
            insert(table_of(JournalEntryRow)).returning(
                JournalEntryRow.id, sort_by_parameter_order=True
            ),
            [_entry_values(entry) for entry in entries],
        )
        posted = [
            PostedEntry(entry_id, entry) for entry_id, entry in zip(ids, entries, strict=True)
        ]
        lines = [
            {"entry_id": item.id, "account": line.account, "amount": line.amount}
            for item in posted
            for line in item.entry.lines
        ]
        if lines:
            await self.session.execute(insert(table_of(JournalLineRow)), lines)
        await lots.follow(self.session, posted)
        return posted

    async def get(self, entry_id: int) -> PostedEntry | None:
        row = await self.session.get(JournalEntryRow, entry_id)
        if row is None:
            return None
        lines = await self.session.execute(
            select(JournalLineRow).where(JournalLineRow.entry_id == entry_id)
        )
        return posted_entry(row, [JournalLine(r.account, r.amount) for r in lines.scalars()])


def _entry_values(entry: JournalEntry) -> dict[str, Any]:
    movement = entry.movement
    return dict(
        kind=entry.kind.value,
        customer_id=entry.customer_id,
        points=entry.points,
        balance_after=entry.balance_after,
        balance_version=entry.balance_version,
        store_id=movement.store_id,
        terminal_id=movement.terminal_id,
        sale_id=movement.sale_id,
        idempotency_key=movement.idempotency_key,
        reward_id=entry.reward_id,
        reason=movement.reason,
        created_at=movement.occurred_at,
        reverses_entry_id=entry.reverses_entry_id,
        **actor_columns("recorded_by", movement.actor),
    )


def actor_columns(prefix: str, actor: Actor | None) -> dict[str, str | None]:
    return {
        f"{prefix}_staff": None if actor is None else actor.staff_id,
        f"{prefix}_role": None if actor is None else actor.role,
        f"{prefix}_terminal": None if actor is None else actor.terminal_id,
    }


def actor_of(staff_id: str | None, role: str | None, terminal_id: str | None) -> Actor | None:
    if staff_id is None or role is None:
        return None
    return Actor(staff_id=staff_id, role=role, terminal_id=terminal_id)


def posted_entry(row: JournalEntryRow, lines: Sequence[JournalLine]) -> PostedEntry:
    actor = actor_of(row.recorded_by_staff, row.recorded_by_role, row.recorded_by_terminal)
    movement = Movement(
        row.store_id,
        row.terminal_id,
        row.sale_id,
        row.idempotency_key,
        row.created_at,
        actor,
        row.reason,
    )
    entry = JournalEntry(
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
    return PostedEntry(row.id, entry)


class SqlAlchemyIdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, key: str, fingerprint: str) -> StoredOutcome | None:
        claimed = await self.session.execute(
            insert_or_ignore(self.session, IdempotencyKeyRow)
            .values(key=key, fingerprint=fingerprint, created_at=datetime.now(UTC))
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(IdempotencyKeyRow.key)
        )
        if claimed.first() is not None:
            return None
        row = (
            await self.session.execute(
                select(IdempotencyKeyRow).where(IdempotencyKeyRow.key == key)
            )
        ).scalar_one()
        field = None if row.refusal_field is None else tuple(row.refusal_field.split("."))
        return StoredOutcome(
            row.fingerprint, row.entry_id, row.refusal_code, row.refusal_message, field
        )

    async def complete(self, key: str, entry_id: int) -> None:
        await self._set(key, entry_id=entry_id)

    async def refuse(self, key: str, error: DomainError) -> None:
        await self._set(
            key,
            refusal_code=error.code.value,
            refusal_message=error.message[:300],
            refusal_field=None if error.field is None else ".".join(error.field)[:200],
        )

    async def _set(self, key: str, **values: Any) -> None:
        await self.session.execute(
            update(IdempotencyKeyRow).where(IdempotencyKeyRow.key == key).values(**values)
        )
