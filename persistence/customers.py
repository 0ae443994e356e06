"""Customers and their points accounts: enrolment, and the account locks every movement
takes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts import Account
from domain.customers import Customer, Identifiers
from domain.errors import DuplicateCustomer
from persistence import driver
from persistence.analytics.inbox import Counted, enqueue
from persistence.base import table_of
from persistence.models import CustomerRow
from persistence.periods import CLOSED_UNTIL
from persistence.programme_cache import PROGRAMME_TOKEN, ReadUnderLock
from persistence.records import columns_of, record_of

IDENTIFIER_FIELDS = {
    "external_id": "externalId",
    "email": "email",
    "phone": "phone",
    "card_number": "cardNumber",
}
ACCOUNT_VALUES = ("balance", "balance_version", "lifetime_earned", "points_owed", "journal_head")
ACCOUNT_COLUMNS = (CustomerRow.id, *(getattr(CustomerRow, name) for name in ACCOUNT_VALUES))
# A movement's one read before it writes: its customer, locked, and beside it, read under
# that lock, the programme's token (persistence/programme_cache.py) and how the books stand
# (persistence/periods.py).
LOCKED_CUSTOMER = (
    select(
        table_of(CustomerRow),
        PROGRAMME_TOKEN.scalar_subquery().label("programme_token"),
        CLOSED_UNTIL.scalar_subquery().label("books_closed_until"),
    )
    .where(CustomerRow.id == bindparam("customer_id"))
    .with_for_update(of=table_of(CustomerRow))
)


SAVE_ACCOUNTS = (
    update(table_of(CustomerRow))
    .where(table_of(CustomerRow).c.id == bindparam("key_id"))
    .values({column: bindparam(f"new_{column}") for column in ACCOUNT_VALUES})
)


class SqlAlchemyCustomerRepository:
    def __init__(self, session: AsyncSession, seen: ReadUnderLock | None = None) -> None:
        self.session = session
        self._seen = seen or ReadUnderLock()
        # Customers locked by lock_account, as this unit of work has left them.
        self._locked: dict[str, Customer] = {}

    async def add(self, customer: Customer) -> None:
        for column, value in customer.identifiers.given().items():
            taken = select(CustomerRow.id).where(getattr(CustomerRow, column) == value)
            if (await self.session.execute(taken)).first() is not None:
                raise _duplicate(column)
        self.session.add(_customer_row(customer))
        try:
            await self.session.flush()
        except IntegrityError:
            # Another enrolment took an identifier between the check and the insert.
            raise DuplicateCustomer("an identifier is taken by another customer") from None
        await enqueue(self.session, Counted.ENROLMENT, [customer.id])

    async def lock_account(self, customer_id: str) -> Account | None:
        found = await driver.first(self.session, LOCKED_CUSTOMER, {"customer_id": customer_id})
        if found is None:
            return None
        row = SimpleNamespace(**found)
        self._seen.token = (row.programme_token,)
        self._seen.closed_until = (row.books_closed_until,)
        customer = customer_of(row)
        self._locked[customer_id] = customer
        return customer.account

    def as_saved(self, customer_id: str) -> Customer | None:
        """A customer lock_account locked, with the account as this unit of work saved it:
        what the change's answer shows, without reading it again."""
        return self._locked.get(customer_id)

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
        query = select(*ACCOUNT_COLUMNS).where(CustomerRow.id == customer_id)
        row = (await self.session.execute(query)).first()
        return None if row is None else Account(*row)

    async def get(self, customer_id: str) -> Customer | None:
        row = await self.session.get(CustomerRow, customer_id)
        return None if row is None else customer_of(row)

    async def save_account(self, account: Account) -> None:
        await self.save_accounts([account])

    async def save_accounts(self, accounts: Sequence[Account]) -> None:
        if not accounts:
            return
        values = [_account_values(account) for account in accounts]
        await driver.execute_many(self.session, SAVE_ACCOUNTS, values)
        for account in accounts:
            locked = self._locked.get(account.customer_id)
            if locked is not None:
                self._locked[account.customer_id] = replace(locked, account=account)


def _account_values(account: Account) -> dict[str, Any]:
    """Bind names differ from the columns, as an UPDATE by key needs."""
    values = {f"new_{name}": getattr(account, name) for name in ACCOUNT_VALUES}
    return {"key_id": account.customer_id, **values}


def _duplicate(column: str) -> DuplicateCustomer:
    name = IDENTIFIER_FIELDS[column]
    return DuplicateCustomer(f"another customer already has this {name}", ("input", name))


def _customer_row(customer: Customer) -> CustomerRow:
    return CustomerRow(
        **columns_of(customer, left_out=("identifiers", "account")),
        **columns_of(customer.identifiers),
        **columns_of(customer.account, left_out=("customer_id",)),
    )


def customer_of(row: CustomerRow | Row[Any] | SimpleNamespace) -> Customer:
    """A customer from its ORM row, a Core row of the same columns, or their values by
    name."""
    account = record_of(Account, row, customer_id=row.id)
    return record_of(Customer, row, identifiers=record_of(Identifiers, row), account=account)
