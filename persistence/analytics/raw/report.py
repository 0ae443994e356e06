"""The report from the raw rows: each period's figures, the staff and the rewards."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from domain.analytics import (
    AnalyticsRange,
    AnalyticsReport,
    CheckoutComparison,
    Days,
    Flow,
    Percentiles,
    PeriodFigures,
    RewardVelocity,
    StaffFigures,
    significant,
)
from domain.ledger import BREAKAGE, POINTS_ISSUED, POINTS_REDEEMED, TransactionKind
from persistence.analytics.raw.campaigns import campaign_figures
from persistence.analytics.raw.customers import cohorts, lifetime
from persistence.analytics.raw.rows import (
    CENT,
    PROMOTIONS,
    Entry,
    Rows,
    load_rows,
    load_sales,
    paid,
    sales_span,
)
from persistence.models import GuestSaleRow, SaleRow


async def raw_report(
    session: AsyncSession, asked: AnalyticsRange, point_value: Decimal
) -> AnalyticsReport:
    periods = asked.periods()
    days = asked.days
    span = sales_span(asked)
    rows = await load_rows(session, asked, span)
    comparison = rows.sales
    if span.union(asked.comparison) != span:
        comparison = await load_sales(session, asked, asked.comparison)

    def figures(part: Days, before: Days) -> PeriodFigures:
        return _figures(asked, rows, part, before, point_value)

    totals = figures(days, days.before())
    customers = rows.enrolled.items
    return AnalyticsReport(
        totals=totals,
        periods=tuple(figures(period.days, period.before()) for period in periods),
        campaigns=await campaign_figures(session, asked, point_value),
        staff=_staff(asked, rows),
        velocity=_velocity(rows.entries.within(days)),
        cohorts=cohorts(asked, rows.sales, customers),
        lifetime=await lifetime(session, customers, totals.flow),
        checkout=CheckoutComparison(
            totals.checkout_time, _checkout_time(comparison.within(asked.comparison))
        ),
    )


def _figures(
    asked: AnalyticsRange, rows: Rows, part: Days, before: Days, point_value: Decimal
) -> PeriodFigures:
    sales, entries = rows.sales.within(part), rows.entries.within(part)
    active = {sale.customer_id for sale in sales}
    active_before = {sale.customer_id for sale in rows.sales.within(before)}
    outstanding = rows.outstanding(part.end)
    return PeriodFigures(
        start=asked.instant(part.first),
        end=asked.instant(part.end),
        flow=_flow(sales, entries, rows.guests.within(part)),
        active_customers=len(active),
        previous_active=len(active_before),
        retained_customers=len(active & active_before),
        new_customers=len(rows.enrolled.within(part)),
        outstanding_points=outstanding,
        outstanding_value=(outstanding * point_value).quantize(CENT),
        checkout_time=_checkout_time(sales),
        redemption_age=_ages(e for e in entries if e.of(TransactionKind.REDEEM)),
    )


def _flow(sales: list[SaleRow], entries: list[Entry], guests: list[GuestSaleRow]) -> Flow:
    def over(kind: TransactionKind, *prefixes: str) -> int:
        return sum(e.counter(p) for e in entries if e.of(kind) for p in prefixes)

    return Flow(
        sales=len(sales),
        sales_with_redemption=sum(
            1 for s in sales if s.points_redeemed > 0 or s.redeem_entry_id is not None
        ),
        checkouts=sum(1 for s in sales if s.is_checkout),
        points_earned=-over(TransactionKind.EARN, POINTS_ISSUED),
        points_awarded=-over(TransactionKind.BULK_AWARD, PROMOTIONS),
        points_redeemed=over(TransactionKind.REDEEM, POINTS_REDEEMED),
        points_expired=over(TransactionKind.EXPIRE, BREAKAGE),
        points_reversed=over(TransactionKind.REVERSAL, POINTS_ISSUED, PROMOTIONS),
        redemptions=sum(1 for e in entries if e.of(TransactionKind.REDEEM)),
        revenue=sum((paid(s.total, s.discount) for s in sales), Decimal(0)),
        guest_sales=len(guests),
        guest_revenue=sum((g.total for g in guests), Decimal(0)),
    )


def _checkout_time(sales: Iterable[SaleRow]) -> Percentiles:
    return Percentiles.of(
        Counter(
            significant(Decimal(s.processing_ms))
            for s in sales
            if s.is_checkout and s.processing_ms is not None
        ).items()
    )


def _ages(redemptions: Iterable[Entry]) -> Percentiles:
    return Percentiles.of(Counter(e.age for e in redemptions if e.age is not None).items())


def _velocity(entries: list[Entry]) -> tuple[RewardVelocity, ...]:
    by_reward: defaultdict[str | None, list[Entry]] = defaultdict(list)
    for entry in entries:
        if entry.of(TransactionKind.REDEEM):
            by_reward[entry.row.reward_id].append(entry)
    return tuple(
        RewardVelocity(
            reward_id,
            len(spent),
            sum(e.counter(POINTS_REDEEMED) for e in spent),
            _ages(spent),
        )
        for reward_id, spent in sorted(by_reward.items(), key=lambda item: item[0] or "")
    )


def _staff(asked: AnalyticsRange, rows: Rows) -> tuple[StaffFigures, ...]:
    figures: defaultdict[tuple[str, str | None], Counter[str]] = defaultdict(Counter)
    for customer in rows.enrolled.within(asked.days):
        store = customer.enrolled_store_id
        if customer.enrolled_by_staff and (asked.store_ids is None or store in asked.store_ids):
            figures[(customer.enrolled_by_staff, store)]["enrolments"] += 1
    for sale in rows.sales.within(asked.days):
        if sale.recorded_by_staff is not None:
            figures[(sale.recorded_by_staff, sale.store_id)].update(
                sales=1, points_issued=sale.points
            )
    for entry in rows.entries.within(asked.days):
        row = entry.row
        if row.recorded_by_staff is None:
            continue
        counted = figures[(row.recorded_by_staff, row.store_id)]
        if entry.of(TransactionKind.REDEEM):
            counted["points_redeemed"] += entry.counter(POINTS_REDEEMED)
        elif entry.of(TransactionKind.REVERSAL) and entry.is_refund:
            counted["refunds"] += 1
        elif entry.of(TransactionKind.ADJUST):
            counted["adjustments"] += 1
    return tuple(
        StaffFigures(staff_id, store_id, **counted)
        for (staff_id, store_id), counted in sorted(
            figures.items(), key=lambda item: (item[0][0], item[0][1] or "")
        )
        if any(counted.values())
    )
