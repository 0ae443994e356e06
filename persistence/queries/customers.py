"""Customers as a till finds them: by one identifier, or many by id at once."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.customers import Customer
from persistence.customers import customer_of
from persistence.models import CustomerRow

LOOKUP_COLUMNS = {
    "id": CustomerRow.id,
    "external_id": CustomerRow.external_id,
    "email": CustomerRow.email,
    "phone": CustomerRow.phone,
    "card_number": CustomerRow.card_number,
}


async def customer_by(session: AsyncSession, identifier: str, value: str) -> Customer | None:
    """The customer whose `identifier` (a key of LOOKUP_COLUMNS) equals the normalised value."""
    query = select(CustomerRow).where(LOOKUP_COLUMNS[identifier] == value)
    row = (await session.execute(query)).scalar_one_or_none()
    return None if row is None else customer_of(row)


async def customers_by_ids(
    session: AsyncSession, customer_ids: Sequence[str]
) -> dict[str, Customer]:
    rows = await session.execute(select(CustomerRow).where(CustomerRow.id.in_(customer_ids)))
    return {row.id: customer_of(row) for row in rows.scalars()}
