"""Customers as a till finds them: by one identifier, or many by id at once; and a
customer's balance at a moment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.customers import Customer
from domain.ledger import customer_account
from persistence.base import table_of
from persistence.customers import customer_of
from persistence.database import Database
from persistence.models import CustomerRow, JournalEntryRow, JournalLineRow

IDENTIFIERS = ("id", "external_id", "email", "phone", "card_number")


def _lookup(identifier: str) -> Select[Any]:
    table = table_of(CustomerRow)
    return select(table).where(table.c[identifier] == bindparam("value"))


# Built once: a till looks a customer up before every sale.
LOOKUPS = {identifier: _lookup(identifier) for identifier in IDENTIFIERS}


async def customer_by(database: Database, identifier: str, value: str) -> Customer | None:
    """The customer whose `identifier` (one of IDENTIFIERS, each a unique column) equals the
    normalised value: one statement, no ORM session, no transaction."""
    row = await database.first_row(LOOKUPS[identifier], {"value": value})
    return None if row is None else customer_of(SimpleNamespace(**row))


async def customers_by_ids(
    session: AsyncSession, customer_ids: Sequence[str]
) -> dict[str, Customer]:
    rows = await session.execute(select(CustomerRow).where(CustomerRow.id.in_(customer_ids)))
    return {row.id: customer_of(row) for row in rows.scalars()}


async def balance_at(session: AsyncSession, customer_id: str, at: datetime) -> int:
    """The customer's balance from their movements that happened at or before `at` (their
    own entries only: a customer's history, not the programme's)."""
    query = (
        select(func.coalesce(func.sum(JournalLineRow.amount), 0))
        .join(JournalEntryRow, JournalEntryRow.id == JournalLineRow.entry_id)
        .where(
            JournalEntryRow.customer_id == customer_id,
            JournalEntryRow.occurred_at <= at,
            JournalLineRow.account == customer_account(customer_id),
        )
    )
    return int(await session.scalar(query) or 0)
