"""Campaign performance from the raw rows: the jobs, their recipients' entries, spends and
sales."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.analytics import AnalyticsRange, CampaignFigures, holdout_scaled
from domain.ledger import TransactionKind
from persistence.analytics.raw.rows import CENT, PROMOTIONS, paid
from persistence.models import (
    BulkAwardRecipientRow,
    BulkAwardRow,
    JournalEntryRow,
    JournalLineRow,
    LotSpendRow,
    SaleRow,
)


@dataclass
class _Job:
    """A campaign's bulk award, what its members' rows and entries add up to, and its
    members' sales (held out, when, money paid) from the earliest window on."""

    row: BulkAwardRow
    statuses: Counter[str] = field(default_factory=Counter)
    points: int = 0
    redeemed: int = 0
    sales: list[tuple[bool, datetime, Decimal]] = field(default_factory=list)

    def revenue(self, holdout: bool, since: datetime, until: datetime) -> Decimal:
        return sum(
            (
                money
                for held, when, money in self.sales
                if held is holdout and since <= when < until
            ),
            Decimal(0),
        )


async def campaign_figures(
    session: AsyncSession, asked: AnalyticsRange, point_value: Decimal
) -> tuple[CampaignFigures, ...]:
    start, end = asked.instant(asked.days.first), asked.instant(asked.days.end)
    jobs = await _jobs(session, start, end)
    figures = [_campaign(job, start, end, point_value) for job in jobs.values()]
    return tuple(
        sorted((f for f in figures if f is not None), key=lambda f: (f.awarded_at, f.bulk_award_id))
    )


def _campaign(
    job: _Job, start: datetime, end: datetime, point_value: Decimal
) -> CampaignFigures | None:
    awarded_at = job.row.created_at
    after = max(awarded_at, start)
    revenue_after = job.revenue(False, after, end)
    bought = any(not held and after <= when < end for held, when, _ in job.sales)
    if not (start <= awarded_at < end or bought):
        return None
    recipients, holdout = job.statuses["AWARDED"], job.statuses["HOLDOUT"]
    return CampaignFigures(
        bulk_award_id=job.row.id,
        campaign_id=job.row.campaign_id or job.row.id,
        awarded_at=awarded_at,
        recipients=recipients,
        holdout_customers=holdout,
        points_awarded=job.points,
        cost=(job.points * point_value).quantize(CENT),
        points_redeemed=job.redeemed,
        revenue_after=revenue_after,
        holdout_revenue=(
            holdout_scaled(job.revenue(True, after, end), holdout, recipients) if holdout else None
        ),
        revenue_before=None if holdout else job.revenue(False, after - (end - after), after),
    )


async def _jobs(session: AsyncSession, start: datetime, end: datetime) -> dict[str, _Job]:
    """Awards (not reversals) made before the range's end, with what they add up to."""
    chosen = and_(BulkAwardRow.reverses_bulk_award_id.is_(None), BulkAwardRow.created_at < end)
    jobs = {row.id: _Job(row) for row in await session.scalars(select(BulkAwardRow).where(chosen))}
    members = BulkAwardRecipientRow
    of_jobs = members.bulk_award_id.in_(select(BulkAwardRow.id).where(chosen))
    for job_id, status, count in await session.execute(
        select(members.bulk_award_id, members.status, func.count())
        .where(of_jobs)
        .group_by(members.bulk_award_id, members.status)
    ):
        jobs[job_id].statuses[status] += count
    awarded = select(members.bulk_award_id, func.sum(JournalLineRow.amount)).join(
        JournalLineRow, JournalLineRow.entry_id == members.entry_id
    )
    promotions = JournalLineRow.account.startswith(PROMOTIONS, autoescape=True)
    for job_id, amount in await session.execute(
        awarded.where(of_jobs, promotions).group_by(members.bulk_award_id)
    ):
        jobs[job_id].points -= int(amount)
    reversals = (
        select(BulkAwardRow.reverses_bulk_award_id, func.sum(JournalLineRow.amount))
        .join(members, members.bulk_award_id == BulkAwardRow.id)
        .join(JournalEntryRow, JournalEntryRow.id == members.entry_id)
        .join(JournalLineRow, JournalLineRow.entry_id == JournalEntryRow.id)
        .where(JournalEntryRow.kind == TransactionKind.REVERSAL.value, promotions)
        .group_by(BulkAwardRow.reverses_bulk_award_id)
    )
    for reversed_id, amount in await session.execute(reversals):
        if reversed_id in jobs:
            jobs[reversed_id].points -= int(amount)
    spent = (
        select(members.bulk_award_id, func.sum(LotSpendRow.points))
        .join(LotSpendRow, LotSpendRow.lot_entry_id == members.entry_id)
        .join(JournalEntryRow, JournalEntryRow.id == LotSpendRow.entry_id)
        .where(
            of_jobs,
            JournalEntryRow.kind == TransactionKind.REDEEM.value,
            JournalEntryRow.occurred_at < end,
        )
        .group_by(members.bulk_award_id)
    )
    for job_id, points in await session.execute(spent):
        jobs[job_id].redeemed += int(points)
    sales = (
        select(members.bulk_award_id, members.status, SaleRow.occurred_at)
        .add_columns(SaleRow.total, SaleRow.discount)
        .join(SaleRow, SaleRow.customer_id == members.customer_id)
        .where(
            of_jobs,
            members.status != "FAILED",
            SaleRow.occurred_at >= start - (end - start),
            SaleRow.occurred_at < end,
        )
    )
    for job_id, status, occurred_at, total, discount in await session.execute(sales):
        jobs[job_id].sales.append((status == "HOLDOUT", occurred_at, paid(total, discount)))
    return jobs
