"""The analytics report computed from the raw rows, never from the rollups: the reference
the rollups are tested against, and the answer for a time zone the rollups do not keep.

Rows are chosen by time in SQL and put into local days here; money is added in Python
(SQLite keeps it as text). Nothing is shared with the rollups but domain.analytics, so
the two implementations check each other.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any, Generic, TypeVar

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.analytics import (
    AnalyticsRange,
    AnalyticsReport,
    CampaignFigures,
    CheckoutComparison,
    Cohort,
    CustomerLife,
    Days,
    Flow,
    Granularity,
    LifetimeValue,
    Moments,
    Participation,
    Percentiles,
    PeriodFigures,
    RewardVelocity,
    Segment,
    StaffFigures,
    age_in_days,
    holdout_scaled,
    local_day,
    next_period,
    period_of,
    significant,
)
from domain.ledger import BREAKAGE, POINTS_ISSUED, POINTS_REDEEMED, TransactionKind
from persistence.models import (
    BulkAwardRecipientRow,
    BulkAwardRow,
    CustomerRow,
    GuestSaleRow,
    JournalEntryRow,
    JournalLineRow,
    LotSpendRow,
    RefundRow,
    SaleRow,
)

PROMOTIONS = "programme:promotions:"
CENT = Decimal("0.01")
MONTH = Granularity.MONTH
ItemT = TypeVar("ItemT")


class _ByDay(Generic[ItemT]):
    """Items in local-day order: those of any days are a slice."""

    def __init__(self, dated: Iterable[tuple[date, ItemT]]) -> None:
        ordered = sorted(dated, key=lambda pair: pair[0])
        self.days = [day for day, _ in ordered]
        self.items = [item for _, item in ordered]

    def within(self, days: Days) -> list[ItemT]:
        return self.items[bisect_left(self.days, days.first) : bisect_left(self.days, days.end)]


@dataclass(frozen=True)
class _Entry:
    row: JournalEntryRow
    lines: dict[str, int] = field(default_factory=dict)
    is_refund: bool = False
    age: Decimal | None = None

    def counter(self, prefix: str) -> int:
        return sum(amount for account, amount in self.lines.items() if account.startswith(prefix))

    def of(self, kind: TransactionKind) -> bool:
        return self.row.kind == kind.value


@dataclass(frozen=True)
class _Rows:
    """What the periods are made of, by local day (store filter applied but for customers)."""

    sales: _ByDay[SaleRow]
    entries: _ByDay[_Entry]
    guests: _ByDay[GuestSaleRow]
    enrolled: _ByDay[CustomerRow]
    balance_days: list[date]
    balances: list[int]

    def outstanding(self, end: date) -> int:
        return self.balances[bisect_left(self.balance_days, end)]


def paid(total: Decimal, discount: Decimal | None) -> Decimal:
    return total - (discount or Decimal(0))


async def raw_report(
    session: AsyncSession, asked: AnalyticsRange, point_value: Decimal
) -> AnalyticsReport:
    periods = asked.periods()
    days = asked.days
    span = _sales_span(asked)
    rows = await _rows(session, asked, span)
    comparison = rows.sales
    if span.union(asked.comparison) != span:
        comparison = await _sales(session, asked, asked.comparison)

    def figures(part: Days, before: Days) -> PeriodFigures:
        return _figures(asked, rows, part, before, point_value)

    totals = figures(days, days.before())
    customers = rows.enrolled.items
    return AnalyticsReport(
        totals=totals,
        periods=tuple(figures(period.days, period.before()) for period in periods),
        campaigns=await _campaigns(session, asked, point_value),
        staff=_staff(asked, rows),
        velocity=_velocity(rows.entries.within(days)),
        cohorts=_cohorts(asked, rows.sales, customers),
        lifetime=await _lifetime(session, customers, totals.flow),
        checkout=CheckoutComparison(
            totals.checkout_time, _checkout_time(comparison.within(asked.comparison))
        ),
    )


def _sales_span(asked: AnalyticsRange) -> Days:
    """Every day a sale is looked at: the range, the periods before, the cohorts' months."""
    days = asked.days
    last_month = period_of(days.end - timedelta(days=1), MONTH)
    months = Days(period_of(days.first, MONTH), next_period(last_month, MONTH))
    return days.before().union(asked.periods()[0].before()).union(days).union(months)


def _stores(column: Any, asked: AnalyticsRange) -> Any:
    return True if asked.store_ids is None else column.in_(sorted(asked.store_ids))


def _when(column: Any, asked: AnalyticsRange, days: Days) -> Any:
    return and_(column >= asked.instant(days.first), column < asked.instant(days.end))


async def _rows(session: AsyncSession, asked: AnalyticsRange, span: Days) -> _Rows:
    zone, days = asked.zone, asked.days
    guests = await session.scalars(
        select(GuestSaleRow).where(
            _when(GuestSaleRow.occurred_at, asked, days), _stores(GuestSaleRow.store_id, asked)
        )
    )
    customers = list(await session.scalars(select(CustomerRow)))
    base, moves = await _balances(session, asked)
    balance_days = sorted(moves)
    return _Rows(
        sales=await _sales(session, asked, span),
        entries=await _entries(session, asked),
        guests=_ByDay((local_day(g.occurred_at, zone), g) for g in guests),
        enrolled=_ByDay((local_day(c.enrolled_at, zone), c) for c in customers),
        balance_days=balance_days,
        balances=list(accumulate((moves[day] for day in balance_days), initial=base)),
    )


async def _sales(session: AsyncSession, asked: AnalyticsRange, days: Days) -> _ByDay[SaleRow]:
    found = await session.scalars(
        select(SaleRow).where(
            _when(SaleRow.occurred_at, asked, days), _stores(SaleRow.store_id, asked)
        )
    )
    return _ByDay((local_day(sale.occurred_at, asked.zone), sale) for sale in found)


async def _balances(session: AsyncSession, asked: AnalyticsRange) -> tuple[int, Counter[date]]:
    """Programme-wide: the points held before the range, and what each day added."""
    start = asked.instant(asked.days.first)
    before = await session.scalar(
        select(func.coalesce(func.sum(JournalEntryRow.points), 0)).where(
            JournalEntryRow.occurred_at < start
        )
    )
    moves: Counter[date] = Counter()
    found = await session.execute(
        select(JournalEntryRow.occurred_at, JournalEntryRow.points).where(
            _when(JournalEntryRow.occurred_at, asked, asked.days)
        )
    )
    for occurred_at, points in found.all():
        moves[local_day(occurred_at, asked.zone)] += points
    return int(before or 0), moves


async def _entries(session: AsyncSession, asked: AnalyticsRange) -> _ByDay[_Entry]:
    chosen = and_(
        _when(JournalEntryRow.occurred_at, asked, asked.days),
        _stores(JournalEntryRow.store_id, asked),
    )
    rows = list(await session.scalars(select(JournalEntryRow).where(chosen)))
    lines: defaultdict[int, Counter[str]] = defaultdict(Counter)
    found = await session.execute(
        select(JournalLineRow.entry_id, JournalLineRow.account, JournalLineRow.amount)
        .join(JournalEntryRow, JournalEntryRow.id == JournalLineRow.entry_id)
        .where(chosen)
    )
    for entry_id, account, amount in found.all():
        lines[entry_id][account] += amount
    refunds = set(
        await session.scalars(
            select(RefundRow.entry_id)
            .join(JournalEntryRow, JournalEntryRow.id == RefundRow.entry_id)
            .where(chosen)
        )
    )
    spent: defaultdict[int, list[LotSpendRow]] = defaultdict(list)
    for spend in await session.scalars(
        select(LotSpendRow)
        .join(JournalEntryRow, JournalEntryRow.id == LotSpendRow.entry_id)
        .where(chosen, JournalEntryRow.kind == TransactionKind.REDEEM.value)
    ):
        spent[spend.entry_id].append(spend)
    return _ByDay(
        (
            local_day(row.occurred_at, asked.zone),
            _Entry(
                row,
                dict(lines[row.id]),
                row.id in refunds,
                age_in_days((s.points, s.earned_at, s.spent_at) for s in spent[row.id]),
            ),
        )
        for row in rows
    )


def _figures(
    asked: AnalyticsRange, rows: _Rows, part: Days, before: Days, point_value: Decimal
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


def _flow(sales: list[SaleRow], entries: list[_Entry], guests: list[GuestSaleRow]) -> Flow:
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


def _ages(redemptions: Iterable[_Entry]) -> Percentiles:
    return Percentiles.of(Counter(e.age for e in redemptions if e.age is not None).items())


def _velocity(entries: list[_Entry]) -> tuple[RewardVelocity, ...]:
    by_reward: defaultdict[str | None, list[_Entry]] = defaultdict(list)
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


def _staff(asked: AnalyticsRange, rows: _Rows) -> tuple[StaffFigures, ...]:
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


def _cohorts(
    asked: AnalyticsRange, sales: _ByDay[SaleRow], customers: Sequence[CustomerRow]
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


async def _lifetime(
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


async def _campaigns(
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
