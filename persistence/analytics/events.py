"""The rows an inbox batch refers to, read set-based, and what each adds to a tally."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.analytics import PROGRAMME, Metric, age_in_days, significant
from domain.ledger import BREAKAGE, POINTS_ISSUED, POINTS_REDEEMED, TransactionKind
from persistence.analytics.tally import Tally
from persistence.base import table_of
from persistence.models import (
    BulkAwardRecipientRow,
    CustomerRow,
    GuestSaleRow,
    JournalEntryRow,
    JournalLineRow,
    LotSpendRow,
    RefundRow,
    SaleRow,
)

PROMOTIONS = "programme:promotions:"
# Read as Core rows (by column name), not ORM instances: the rollup worker reads every
# entry and sale the API writes, and loading instances cost several times the reading.
ENTRIES = table_of(JournalEntryRow)
SPENDS = table_of(LotSpendRow)
SALES = table_of(SaleRow)
GUEST_SALES = table_of(GuestSaleRow)
CUSTOMERS = table_of(CustomerRow)


@dataclass(frozen=True)
class EntryFacts:
    """A journal entry with what analytics need beside it."""

    row: Row[Any]  # of journal_entries
    lines: dict[str, int]
    is_refund: bool
    spent: list[Row[Any]]  # of lot_spends

    def counter_amount(self, account_prefix: str) -> int:
        return sum(
            amount for account, amount in self.lines.items() if account.startswith(account_prefix)
        )


async def tally_entries(session: AsyncSession, tally: Tally, ids: Sequence[int]) -> None:
    if not ids:
        return
    rows = (await session.execute(select(ENTRIES).where(ENTRIES.c.id.in_(ids)))).all()
    lines: defaultdict[int, dict[str, int]] = defaultdict(dict)
    found_lines = await session.execute(
        select(JournalLineRow.entry_id, JournalLineRow.account, JournalLineRow.amount).where(
            JournalLineRow.entry_id.in_(ids)
        )
    )
    for entry_id, account, amount in found_lines.all():
        lines[entry_id][account] = lines[entry_id].get(account, 0) + amount
    refunds = set(
        (
            await session.execute(select(RefundRow.entry_id).where(RefundRow.entry_id.in_(ids)))
        ).scalars()
    )
    spends: defaultdict[int, list[Row[Any]]] = defaultdict(list)
    for spend in (await session.execute(select(SPENDS).where(SPENDS.c.entry_id.in_(ids)))).all():
        spends[spend.entry_id].append(spend)
    awards = await _award_jobs(session, [s for held in spends.values() for s in held])
    for row in rows:
        facts = EntryFacts(row, lines[row.id], row.id in refunds, spends[row.id])
        _tally_entry(tally, facts, awards)


async def _award_jobs(session: AsyncSession, spends: Sequence[Row[Any]]) -> dict[int, str]:
    """The bulk award each spent lot's crediting entry came from, if any."""
    entry_ids = sorted({s.lot_entry_id for s in spends if s.lot_entry_id is not None})
    if not entry_ids:
        return {}
    found = await session.execute(
        select(BulkAwardRecipientRow.entry_id, BulkAwardRecipientRow.bulk_award_id).where(
            BulkAwardRecipientRow.entry_id.in_(entry_ids)
        )
    )
    return {int(entry_id): job for entry_id, job in found.all() if entry_id is not None}


def _tally_entry(tally: Tally, facts: EntryFacts, awards: dict[int, str]) -> None:
    row = facts.row
    kind, when, store = TransactionKind(row.kind), row.occurred_at, row.store_id
    # Balances belong to no store: only the programme's scope keeps net points.
    tally.add_programme(when, net_points=row.points)
    if kind is TransactionKind.EARN:
        earned = -facts.counter_amount(POINTS_ISSUED)
        tally.add(when, store, points_earned=earned)
        tally.add_life(row.customer_id, points_earned=earned)
    elif kind is TransactionKind.BULK_AWARD:
        tally.add(when, store, points_awarded=-facts.counter_amount(PROMOTIONS))
    elif kind is TransactionKind.REDEEM:
        _tally_redemption(tally, facts, awards)
    elif kind is TransactionKind.EXPIRE:
        tally.add(when, store, points_expired=facts.counter_amount(BREAKAGE))
    elif kind is TransactionKind.REVERSAL:
        taken_back = facts.counter_amount(POINTS_ISSUED) + facts.counter_amount(PROMOTIONS)
        tally.add(when, store, points_reversed=taken_back)
        if facts.is_refund:
            tally.add_staff(when, row.recorded_by_staff, store, refunds=1)
    elif kind is TransactionKind.ADJUST:
        tally.add_staff(when, row.recorded_by_staff, store, adjustments=1)


def _tally_redemption(tally: Tally, facts: EntryFacts, awards: dict[int, str]) -> None:
    row = facts.row
    when, store, points = row.occurred_at, row.store_id, facts.counter_amount(POINTS_REDEEMED)
    tally.add(when, store, points_redeemed=points, redemptions=1)
    tally.add_redemption(when, store, row.reward_id, points)
    tally.add_staff(when, row.recorded_by_staff, store, points_redeemed=points)
    tally.add_life(row.customer_id, points_redeemed=points)
    age = age_in_days((s.points, s.earned_at, s.spent_at) for s in facts.spent)
    if age is not None:
        for key in {row.reward_id or "", PROGRAMME}:
            tally.add_value(when, store, Metric.REDEMPTION_DAYS, key, age)
    for spend in facts.spent:
        job = awards.get(spend.lot_entry_id or 0)
        if job is not None:
            _, before = tally.campaign_spends.get((job, row.id), (when, 0))
            tally.campaign_spends[(job, row.id)] = (when, before + spend.points)


def money_paid(row: SaleRow | Row[Any]) -> Decimal:
    return row.total - (row.discount or Decimal(0))


async def tally_sales(
    session: AsyncSession, tally: Tally, ids: Sequence[int]
) -> Sequence[Row[Any]]:
    if not ids:
        return []
    rows = (await session.execute(select(SALES).where(SALES.c.id.in_(ids)))).all()
    for row in rows:
        when, store, paid = row.occurred_at, row.store_id, money_paid(row)
        redeemed = int(row.points_redeemed > 0 or row.redeem_entry_id is not None)
        tally.add(
            when,
            store,
            sales=1,
            sales_with_redemption=redeemed,
            checkouts=int(row.is_checkout),
            revenue=paid,
        )
        tally.add_staff(when, row.recorded_by_staff, store, sales=1, points_issued=row.points)
        tally.add_active(when, store, row.customer_id)
        tally.add_life(row.customer_id, sales=1, revenue=paid)
        if row.is_checkout and row.processing_ms is not None:
            value = significant(Decimal(row.processing_ms))
            tally.add_value(when, store, Metric.CHECKOUT_MS, "", value)
    return rows


async def tally_guest_sales(session: AsyncSession, tally: Tally, ids: Sequence[int]) -> None:
    if not ids:
        return
    rows = (await session.execute(select(GUEST_SALES).where(GUEST_SALES.c.id.in_(ids)))).all()
    for row in rows:
        tally.add(row.occurred_at, row.store_id, guest_sales=1, guest_revenue=row.total)


async def tally_enrolments(session: AsyncSession, tally: Tally, ids: Sequence[str]) -> None:
    if not ids:
        return
    rows = (await session.execute(select(CUSTOMERS).where(CUSTOMERS.c.id.in_(ids)))).all()
    for row in rows:
        tally.add_programme(row.enrolled_at, new_customers=1)
        tally.add_staff(row.enrolled_at, row.enrolled_by_staff, row.enrolled_store_id, enrolments=1)
        tally.add_life(row.id)
