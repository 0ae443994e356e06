"""The chain's stores."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.stores import Store
from persistence.models import StoreRow
from persistence.records import record_of


async def stores(session: AsyncSession) -> list[Store]:
    rows = await session.execute(select(StoreRow).order_by(StoreRow.id))
    return [record_of(Store, row) for row in rows.scalars()]
