"""Campaign performance from the jobs and the campaign rollups: recipients and holdout as
the job lists them, points from the job, spends and revenue from the rollups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.analytics import AnalyticsRange, CampaignFigures, holdout_scaled
from persistence.models import (
    BulkAwardRecipientRow,
    BulkAwardRow,
    RollupCampaignSaleRow,
    RollupCampaignSpendRow,
)


async def campaign_figures(
    session: AsyncSession, asked: AnalyticsRange, point_value: Decimal
) -> list[CampaignFigures]:
    """Each bulk award (not a reversal) made before the range ends, made in it or with a
    recipient's sale in it after the award; oldest first."""
    start, end = asked.start, asked.end
    sales = RollupCampaignSaleRow
    sold_in_range = exists().where(
        sales.bulk_award_id == BulkAwardRow.id,
        sales.holdout.is_(False),
        sales.occurred_at >= start,
        sales.occurred_at >= BulkAwardRow.created_at,
        sales.occurred_at < end,
    )
    jobs = (
        await session.execute(
            select(BulkAwardRow)
            .where(
                BulkAwardRow.reverses_bulk_award_id.is_(None),
                BulkAwardRow.created_at < end,
                (BulkAwardRow.created_at >= start) | sold_in_range,
            )
            .order_by(BulkAwardRow.created_at, BulkAwardRow.id)
        )
    ).scalars()
    return [await _figures(session, job, asked, point_value) for job in jobs]


async def _figures(
    session: AsyncSession, job: BulkAwardRow, asked: AnalyticsRange, point_value: Decimal
) -> CampaignFigures:
    awarded, holdout = await _members(session, job.id)
    reversed_customers = await _reversed(session, job.id)
    points = job.points * awarded - job.points * reversed_customers
    after_start = max(job.created_at, asked.start)
    after = (after_start, asked.end)
    revenue_after = await _revenue(session, job.id, False, after)
    holdout_revenue = None
    revenue_before = None
    if holdout:
        holdout_revenue = holdout_scaled(
            await _revenue(session, job.id, True, after), holdout, awarded
        )
    else:
        before = (after_start - (asked.end - after_start), after_start)
        revenue_before = await _revenue(session, job.id, False, before)
    return CampaignFigures(
        bulk_award_id=job.id,
        campaign_id=job.campaign_id or job.id,
        awarded_at=job.created_at,
        recipients=awarded,
        holdout_customers=holdout,
        points_awarded=points,
        cost=(points * point_value).quantize(Decimal("0.01")),
        points_redeemed=await _spent(session, job.id, asked.end),
        revenue_after=revenue_after,
        holdout_revenue=holdout_revenue,
        revenue_before=revenue_before,
    )


async def _members(session: AsyncSession, bulk_award_id: str) -> tuple[int, int]:
    """Recipients awarded, and customers held out."""
    rows = await session.execute(
        select(BulkAwardRecipientRow.status, func.count())
        .where(
            BulkAwardRecipientRow.bulk_award_id == bulk_award_id,
            BulkAwardRecipientRow.status.in_(("AWARDED", "HOLDOUT")),
        )
        .group_by(BulkAwardRecipientRow.status)
    )
    counted = {status: int(count) for status, count in rows.all()}
    return counted.get("AWARDED", 0), counted.get("HOLDOUT", 0)


async def _reversed(session: AsyncSession, bulk_award_id: str) -> int:
    """Customers whose award a reversal job took back."""
    found = await session.scalar(
        select(func.count())
        .select_from(BulkAwardRecipientRow)
        .join(BulkAwardRow, BulkAwardRow.id == BulkAwardRecipientRow.bulk_award_id)
        .where(
            BulkAwardRow.reverses_bulk_award_id == bulk_award_id,
            BulkAwardRecipientRow.status == "AWARDED",
        )
    )
    return int(found or 0)


async def _revenue(
    session: AsyncSession, bulk_award_id: str, holdout: bool, window: tuple[datetime, datetime]
) -> Decimal:
    sales = RollupCampaignSaleRow
    within = (
        sales.bulk_award_id == bulk_award_id,
        sales.holdout.is_(holdout),
        sales.occurred_at >= window[0],
        sales.occurred_at < window[1],
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        total = await session.scalar(select(func.sum(sales.revenue)).where(*within))
        return Decimal(total or 0)
    # SQLite keeps money as text and would add it as floats: summed here instead.
    amounts = await session.execute(select(sales.revenue).where(*within))
    return _total(amounts.scalars().all())


def _total(amounts: Sequence[Decimal]) -> Decimal:
    return sum(amounts, Decimal(0))


async def _spent(session: AsyncSession, bulk_award_id: str, until: datetime) -> int:
    spends = RollupCampaignSpendRow
    found = await session.scalar(
        select(func.coalesce(func.sum(spends.points), 0)).where(
            spends.bulk_award_id == bulk_award_id, spends.spent_at < until
        )
    )
    return int(found or 0)
