"""Guest sales: one row each, its idempotency key unique, counted by analytics."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.guests import GuestSale, RecordGuestSale
from persistence.analytics.inbox import Counted, enqueue
from persistence.database import insert_or_ignore
from persistence.models import GuestSaleRow
from persistence.records import actor_columns, actor_of, record_of


class SqlAlchemyGuestSaleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, sale: RecordGuestSale, fingerprint: str) -> tuple[GuestSale, str]:
        """Record the sale under its key, or find the sale that holds the key; either with
        the fingerprint of the request that recorded it. A concurrent insert of the same key
        waits for the first to commit, then finds its row."""
        claimed = await self.session.execute(
            insert_or_ignore(self.session, GuestSaleRow)
            .values(
                idempotency_key=sale.idempotency_key,
                fingerprint=fingerprint,
                store_id=sale.store_id,
                terminal_id=sale.terminal_id,
                sale_ref=sale.sale_id,
                total=sale.total,
                occurred_at=sale.occurred_at,
                recorded_at=sale.recorded_at,
                **actor_columns("recorded_by", sale.actor),
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(GuestSaleRow.id)
        )
        new_id = claimed.scalar()
        if new_id is None:
            query = select(GuestSaleRow).where(GuestSaleRow.idempotency_key == sale.idempotency_key)
            row = (await self.session.execute(query)).scalar_one()
            return guest_sale_of(row), row.fingerprint
        await enqueue(self.session, Counted.GUEST_SALE, [new_id])
        return sale.as_recorded(new_id), fingerprint


def guest_sale_of(row: GuestSaleRow) -> GuestSale:
    return record_of(GuestSale, row, sale_id=row.sale_ref, recorded_by=actor_of(row, "recorded_by"))
