"""The points journal as clients read it: a customer's history, a store's feed, the gaps a
subscriber fills, and why each sale earned what it did."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ledger import PostedEntry
from domain.points import SaleBreakdown
from domain.rules import Contribution, ContributionKind, RuleRef
from persistence.journal import posted_entries
from persistence.models import EarnContributionRow, JournalEntryRow, RefundRow, SaleLineRow, SaleRow
from persistence.points import line_points

RowT = TypeVar("RowT", SaleLineRow, EarnContributionRow, RefundRow)


@dataclass(frozen=True)
class TransactionPage:
    transactions: Sequence[PostedEntry]
    has_next_page: bool


async def transactions_page(
    session: AsyncSession, customer_id: str, first: int, before_id: int | None
) -> TransactionPage:
    """Newest first: the entry id orders a customer's entries, as they lock the account."""
    query = (
        select(JournalEntryRow)
        .where(JournalEntryRow.customer_id == customer_id)
        .order_by(JournalEntryRow.id.desc())
        .limit(first + 1)
    )
    if before_id is not None:
        query = query.where(JournalEntryRow.id < before_id)
    found = await posted_entries(session, query)
    return TransactionPage(found[:first], len(found) > first)


async def transactions_after_version(
    session: AsyncSession, customer_id: str, after_version: int
) -> list[PostedEntry]:
    """Balance changes after a version, oldest first: how a subscriber fills a gap."""
    query = _balance_changes(
        JournalEntryRow.customer_id == customer_id,
        JournalEntryRow.balance_version > after_version,
    )
    return await posted_entries(session, query.order_by(JournalEntryRow.balance_version))


async def latest_entry_id(session: AsyncSession, store_id: str) -> int:
    query = select(func.max(JournalEntryRow.id)).where(JournalEntryRow.store_id == store_id)
    return int(await session.scalar(query) or 0)


async def store_transactions_after(
    session: AsyncSession, store_id: str, after_id: int, limit: int
) -> list[PostedEntry]:
    """A store's points transactions after an entry id, oldest first (a feed's catch-up)."""
    query = _balance_changes(JournalEntryRow.store_id == store_id, JournalEntryRow.id > after_id)
    return await posted_entries(session, query.order_by(JournalEntryRow.id).limit(limit))


def _balance_changes(*where: ColumnElement[bool]) -> Select[JournalEntryRow]:
    """The entries that moved a balance (a feed sends no others), as far as `where` says."""
    return select(JournalEntryRow).where(*where, JournalEntryRow.points != 0)


async def sale_breakdowns(
    session: AsyncSession, entry_ids: Sequence[int]
) -> dict[int, SaleBreakdown]:
    """By entry: the breakdown of the sale it earned on, or of the sale a refund reverses.
    Entries of neither kind are left out. Five statements however many entries."""
    reversals = select(RefundRow.entry_id, RefundRow.sale_id).where(
        RefundRow.entry_id.in_(entry_ids)
    )
    refunded: dict[int, int] = dict((await session.execute(reversals)).all())
    sales = await session.execute(
        select(SaleRow).where(
            or_(SaleRow.journal_entry_id.in_(entry_ids), SaleRow.id.in_(set(refunded.values())))
        )
    )
    by_sale = await _breakdowns(session, list(sales.scalars()))
    by_entry = {breakdown.earn_entry_id: breakdown for breakdown in by_sale.values()}
    found = {entry: by_entry.get(entry) for entry in entry_ids}
    found |= {entry: by_sale.get(sale) for entry, sale in refunded.items()}
    return {entry: breakdown for entry, breakdown in found.items() if breakdown is not None}


async def _breakdowns(session: AsyncSession, sales: Sequence[SaleRow]) -> dict[int, SaleBreakdown]:
    """Each sale's lines, rule parts and refunds: three statements for all the sales."""
    ids = [sale.id for sale in sales]
    lines = _by_sale(
        await session.scalars(
            select(SaleLineRow).where(SaleLineRow.sale_id.in_(ids)).order_by(SaleLineRow.line_no)
        )
    )
    parts = _by_sale(
        await session.scalars(
            select(EarnContributionRow)
            .where(EarnContributionRow.sale_id.in_(ids))
            .order_by(EarnContributionRow.id)
        )
    )
    refunds = _by_sale(
        await session.scalars(
            select(RefundRow).where(RefundRow.sale_id.in_(ids)).order_by(RefundRow.id)
        )
    )
    return {
        sale.id: _breakdown(
            sale,
            lines[sale.id],
            [_contribution(part) for part in parts[sale.id]],
            [refund.entry_id for refund in refunds[sale.id]],
        )
        for sale in sales
    }


def _by_sale(rows: Iterable[RowT]) -> defaultdict[int, list[RowT]]:
    """Rows of several sales, each sale's in the order read."""
    grouped: defaultdict[int, list[RowT]] = defaultdict(list)
    for row in rows:
        grouped[row.sale_id].append(row)
    return grouped


def _breakdown(
    sale: SaleRow, lines: list[SaleLineRow], parts: list[Contribution], refund_ids: list[int]
) -> SaleBreakdown:
    return SaleBreakdown(
        earn_entry_id=sale.journal_entry_id,
        total=sale.total,
        discount=sale.discount or Decimal(0),
        points_redeemed=sale.points_redeemed,
        points=sale.points,
        lines=tuple(line_points(line, parts) for line in lines),
        contributions=tuple(parts),
        refunded_quantities={line.line_no: line.refunded_quantity for line in lines},
        refund_entry_ids=tuple(refund_ids),
    )


def _contribution(row: EarnContributionRow) -> Contribution:
    rule = None
    if row.rule_id is not None:
        rule = RuleRef(row.rule_id, int(row.rule_version or 0), str(row.rule_name or ""))
    return Contribution(ContributionKind(row.kind), rule, row.points, row.line_no)
