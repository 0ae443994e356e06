"""A store's figures of one local day, from the rollups: what live tiles show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import RollupActivityRow, RollupTotalsRow


@dataclass(frozen=True)
class DayTiles:
    sales: int = 0
    points_earned: int = 0
    points_redeemed: int = 0
    active_customers: int = 0
    revenue: Decimal = Decimal(0)


async def day_tiles(session: AsyncSession, zone: str, store_id: str, day: date) -> DayTiles:
    totals = (
        await session.execute(
            select(RollupTotalsRow).where(
                RollupTotalsRow.zone == zone,
                RollupTotalsRow.granularity == "DAY",
                RollupTotalsRow.period == day,
                RollupTotalsRow.scope == store_id,
            )
        )
    ).scalar_one_or_none()
    active = await session.scalar(
        select(RollupActivityRow.active).where(
            RollupActivityRow.zone == zone,
            RollupActivityRow.granularity == "DAY",
            RollupActivityRow.period == day,
            RollupActivityRow.scope == store_id,
        )
    )
    if totals is None:
        return DayTiles(active_customers=int(active or 0))
    return DayTiles(
        totals.sales,
        totals.points_earned,
        totals.points_redeemed,
        int(active or 0),
        totals.revenue,
    )
