"""Customers over time from the raw rows: monthly cohorts, and the lifetime figures over
all history."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.analytics import (
    AnalyticsRange,
    Cohort,
    CustomerLife,
    Days,
    Flow,
    LifetimeValue,
    Moments,
    Participation,
    Segment,
    local_day,
    next_period,
    period_of,
)
from domain.ledger import POINTS_ISSUED, POINTS_REDEEMED, TransactionKind
from persistence.analytics.raw.rows import MONTH, ByDay, paid
from persistence.models import (
    CustomerRow,
    JournalEntryRow,
    JournalLineRow,
    SaleRow,
)


def cohorts(
    asked: AnalyticsRange, sales: ByDay[SaleRow], customers: Sequence[CustomerRow]
) -> tuple[Cohort, ...]:
    days, zone = asked.days, asked.zone
    members: defaultdict[date, set[str]] = defaultdict(set)
    for customer in customers:
        members[period_of(local_day(customer.enrolled_at, zone), MONTH)].add(customer.id)
    cohorts, month = [], period_of(days.first, MONTH)
    while month < days.end:
        active, later = [], month
        while later < days.end:
            buyers = {s.customer_id for s in sales.within(Days(later, next_period(later, MONTH)))}
            active.append(len(members[month] & buyers))
            later = next_period(later, MONTH)
        cohorts.append(Cohort(asked.instant(month), len(members[month]), tuple(active)))
        month = next_period(month, MONTH)
    return tuple(cohorts)


async def lifetime(
    session: AsyncSession, customers: Sequence[CustomerRow], totals: Flow
) -> LifetimeValue:
    """Programme-wide over all history: neither the range nor the stores narrow it."""
    figures: dict[str, Counter[str]] = {c.id: Counter() for c in customers}
    revenue: defaultdict[str, Decimal] = defaultdict(Decimal)
    for customer_id, total, discount in await session.execute(
        select(SaleRow.customer_id, SaleRow.total, SaleRow.discount)
    ):
        figures[customer_id]["sales"] += 1
        revenue[customer_id] += paid(total, discount)
    counted = (
        (TransactionKind.EARN, POINTS_ISSUED, "points_earned", -1),
        (TransactionKind.REDEEM, POINTS_REDEEMED, "points_redeemed", 1),
    )
    for kind, account, name, sign in counted:
        found = await session.execute(
            select(JournalEntryRow.customer_id, func.sum(JournalLineRow.amount))
            .join(JournalLineRow, JournalLineRow.entry_id == JournalEntryRow.id)
            .where(JournalEntryRow.kind == kind.value, JournalLineRow.account == account)
            .group_by(JournalEntryRow.customer_id)
        )
        for customer_id, amount in found.all():
            figures[customer_id][name] += sign * int(amount)
    lives = [
        CustomerLife(revenue=revenue[customer_id], **counted_for)
        for customer_id, counted_for in figures.items()
    ]
    return LifetimeValue(
        segments=tuple(_segment(p, lives) for p in Participation),
        moments=Moments(
            n=len(lives),
            x=sum(life.activity for life in lives),
            y=sum(life.sales for life in lives),
            xx=sum(life.activity**2 for life in lives),
            yy=sum(life.sales**2 for life in lives),
            xy=sum(life.activity * life.sales for life in lives),
        ),
        member_sales=totals.sales,
        member_revenue=totals.revenue,
        guest_sales=totals.guest_sales,
        guest_revenue=totals.guest_revenue,
    )


def _segment(participation: Participation, lives: Sequence[CustomerLife]) -> Segment:
    chosen = [life for life in lives if life.participation is participation]
    return Segment(
        participation,
        customers=len(chosen),
        sales=sum(life.sales for life in chosen),
        revenue=sum((life.revenue for life in chosen), Decimal(0)),
        repeaters=sum(1 for life in chosen if life.sales >= 2),
    )
