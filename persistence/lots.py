"""Point lots as stored: the journal applies the FIFO rule (domain/lots.py) to them as it
posts, and expiry asks them what is old enough."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain import lots
from domain.ledger import PostedEntry
from persistence import driver
from persistence.base import table_of
from persistence.models import LotSpendRow, PointLotRow
from persistence.records import columns_of, record_of

INSERT_LOTS = insert(table_of(PointLotRow)).returning(PointLotRow.id, sort_by_parameter_order=True)
INSERT_SPENDS = insert(table_of(LotSpendRow))


async def follow(session: AsyncSession, posted: Sequence[PostedEntry]) -> None:
    """Open a lot for every credit and take every debit from the customer's open lots,
    in the order the entries were posted; a batch of credits reads no lot."""
    spenders = sorted({item.entry.customer_id for item in posted if item.entry.balance_change < 0})
    changes = lots.follow(await _open_lots(session, spenders), posted)
    opened: dict[tuple[int, int], int] = {}
    if changes.opened:
        rows = [columns_of(lot, left_out=("id",)) for lot in changes.opened]
        ids = await driver.rows_of_each(session, INSERT_LOTS, rows)
        opened = {lot.key: row["id"] for lot, row in zip(changes.opened, ids, strict=True)}
    if changes.spent:
        spent = [{"id": lot.id, "remaining": lot.remaining} for lot in changes.spent]
        await session.execute(update(PointLotRow), spent)
    await driver.execute_many(
        session, INSERT_SPENDS, [_spend_values(t, opened) for t in changes.taken]
    )


def _spend_values(taken: lots.Taken, opened: dict[tuple[int, int], int]) -> dict[str, object]:
    lot = taken.lot
    return {
        "lot_id": lot.id if lot.id is not None else opened[lot.key],
        "lot_entry_id": lot.entry_id,
        "entry_id": taken.entry_id,
        "points": taken.points,
        "earned_at": lot.earned_at,
        "spent_at": taken.spent_at,
    }


async def _open_lots(session: AsyncSession, customer_ids: Sequence[str]) -> list[lots.Lot]:
    if not customer_ids:
        return []
    rows = await session.execute(
        select(PointLotRow).where(
            PointLotRow.customer_id.in_(customer_ids), PointLotRow.remaining > 0
        )
    )
    return [record_of(lots.Lot, row) for row in rows.scalars()]


async def earned_before(session: AsyncSession, cutoff: datetime, limit: int) -> list[str]:
    """Customers holding points earned at or before `cutoff` (candidates for expiry)."""
    rows = await session.execute(
        select(PointLotRow.customer_id)
        .where(PointLotRow.remaining > 0, PointLotRow.earned_at <= cutoff)
        .group_by(PointLotRow.customer_id)
        .order_by(PointLotRow.customer_id)
        .limit(limit)
    )
    return list(rows.scalars())


async def open_before(session: AsyncSession, customer_id: str, cutoff: datetime) -> int:
    """The customer's points earned at or before `cutoff` and not yet spent."""
    total = await session.scalar(
        select(func.coalesce(func.sum(PointLotRow.remaining), 0)).where(
            PointLotRow.customer_id == customer_id,
            PointLotRow.remaining > 0,
            PointLotRow.earned_at <= cutoff,
        )
    )
    return int(total or 0)
