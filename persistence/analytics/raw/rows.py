"""The raw rows a report is made of: chosen by time (and store) in SQL, put into local
days here."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any, Generic, TypeVar

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.analytics import (
    AnalyticsRange,
    Days,
    Granularity,
    age_in_days,
    local_day,
    next_period,
    period_of,
)
from domain.ledger import TransactionKind
from persistence.models import (
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


class ByDay(Generic[ItemT]):
    """Items in local-day order: those of any days are a slice."""

    def __init__(self, dated: Iterable[tuple[date, ItemT]]) -> None:
        ordered = sorted(dated, key=lambda pair: pair[0])
        self.days = [day for day, _ in ordered]
        self.items = [item for _, item in ordered]

    def within(self, days: Days) -> list[ItemT]:
        return self.items[bisect_left(self.days, days.first) : bisect_left(self.days, days.end)]


@dataclass(frozen=True)
class Entry:
    row: JournalEntryRow
    lines: dict[str, int] = field(default_factory=dict)
    is_refund: bool = False
    age: Decimal | None = None

    def counter(self, prefix: str) -> int:
        return sum(amount for account, amount in self.lines.items() if account.startswith(prefix))

    def of(self, kind: TransactionKind) -> bool:
        return self.row.kind == kind.value


@dataclass(frozen=True)
class Rows:
    """What the periods are made of, by local day (store filter applied but for customers)."""

    sales: ByDay[SaleRow]
    entries: ByDay[Entry]
    guests: ByDay[GuestSaleRow]
    enrolled: ByDay[CustomerRow]
    balance_days: list[date]
    balances: list[int]

    def outstanding(self, end: date) -> int:
        return self.balances[bisect_left(self.balance_days, end)]


def paid(total: Decimal, discount: Decimal | None) -> Decimal:
    return total - (discount or Decimal(0))


def sales_span(asked: AnalyticsRange) -> Days:
    """Every day a sale is looked at: the range, the periods before, the cohorts' months."""
    days = asked.days
    last_month = period_of(days.end - timedelta(days=1), MONTH)
    months = Days(period_of(days.first, MONTH), next_period(last_month, MONTH))
    return days.before().union(asked.periods()[0].before()).union(days).union(months)


def _in_stores(column: Any, asked: AnalyticsRange) -> Any:
    return True if asked.store_ids is None else column.in_(sorted(asked.store_ids))


def _occurred_in(column: Any, asked: AnalyticsRange, days: Days) -> Any:
    return and_(column >= asked.instant(days.first), column < asked.instant(days.end))


async def load_rows(session: AsyncSession, asked: AnalyticsRange, span: Days) -> Rows:
    zone, days = asked.zone, asked.days
    guests = await session.scalars(
        select(GuestSaleRow).where(
            _occurred_in(GuestSaleRow.occurred_at, asked, days),
            _in_stores(GuestSaleRow.store_id, asked),
        )
    )
    customers = list(await session.scalars(select(CustomerRow)))
    base, moves = await _balances(session, asked)
    balance_days = sorted(moves)
    return Rows(
        sales=await load_sales(session, asked, span),
        entries=await _entries(session, asked),
        guests=ByDay((local_day(g.occurred_at, zone), g) for g in guests),
        enrolled=ByDay((local_day(c.enrolled_at, zone), c) for c in customers),
        balance_days=balance_days,
        balances=list(accumulate((moves[day] for day in balance_days), initial=base)),
    )


async def load_sales(session: AsyncSession, asked: AnalyticsRange, days: Days) -> ByDay[SaleRow]:
    found = await session.scalars(
        select(SaleRow).where(
            _occurred_in(SaleRow.occurred_at, asked, days), _in_stores(SaleRow.store_id, asked)
        )
    )
    return ByDay((local_day(sale.occurred_at, asked.zone), sale) for sale in found)


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
            _occurred_in(JournalEntryRow.occurred_at, asked, asked.days)
        )
    )
    for occurred_at, points in found.all():
        moves[local_day(occurred_at, asked.zone)] += points
    return int(before or 0), moves


async def _entries(session: AsyncSession, asked: AnalyticsRange) -> ByDay[Entry]:
    chosen = and_(
        _occurred_in(JournalEntryRow.occurred_at, asked, asked.days),
        _in_stores(JournalEntryRow.store_id, asked),
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
    return ByDay(
        (
            local_day(row.occurred_at, asked.zone),
            Entry(
                row,
                dict(lines[row.id]),
                row.id in refunds,
                age_in_days((s.points, s.earned_at, s.spent_at) for s in spent[row.id]),
            ),
        )
        for row in rows
    )
