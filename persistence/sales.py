"""Sales as recorded with the entries that earned on them, and their refunds."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ledger import PostedEntry
from domain.points import sale_total
from domain.refunds import RefundOutcome, SoldLine
from domain.rules import EarnCalculation
from domain.sales import RecordedSale, Refund, SoldSale
from persistence.models import (
    EarnContributionRow,
    RefundLineRow,
    RefundRow,
    SaleLineRow,
    SaleRow,
)
from persistence.repositories import SqlAlchemyJournalRepository


class SqlAlchemySaleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, sale: RecordedSale) -> None:
        row = SaleRow(
            journal_entry_id=sale.earned.id,
            customer_id=sale.customer_id,
            store_id=sale.store_id,
            terminal_id=sale.terminal_id,
            sale_ref=sale.sale_ref,
            total=sale_total(sale.lines),
            points=sale.points,
            occurred_at=sale.occurred_at,
            discount=sale.discount,
            redeem_entry_id=None if sale.redeemed is None else sale.redeemed.id,
            points_redeemed=sale.points_redeemed,
        )
        self.session.add(row)
        await self.session.flush()
        self.session.add_all(_line_rows(row.id, sale.calculation))
        self.session.add_all(_contribution_rows(row, sale.calculation))

    async def redeem_entry_of(self, earn_entry_id: int) -> PostedEntry | None:
        row = await self._sale(earn_entry_id)
        if row is None or row.redeem_entry_id is None:
            return None
        return await SqlAlchemyJournalRepository(self.session).get(row.redeem_entry_id)

    async def customer_of(self, earn_entry_id: int) -> str | None:
        row = await self._sale(earn_entry_id)
        return None if row is None else row.customer_id

    async def sold(self, earn_entry_id: int) -> SoldSale | None:
        row = await self._sale(earn_entry_id)
        if row is None:
            return None
        lines = await self.session.execute(
            select(SaleLineRow).where(SaleLineRow.sale_id == row.id).order_by(SaleLineRow.line_no)
        )
        return SoldSale(
            id=row.id,
            entry_id=row.journal_entry_id,
            customer_id=row.customer_id,
            store_id=row.store_id,
            points=row.points,
            points_redeemed=row.points_redeemed,
            lines=tuple(_sold_line(line) for line in lines.scalars()),
            money_paid=row.total - (row.discount or 0),
        )

    async def record_refund(self, posted: PostedEntry, refund: Refund) -> None:
        outcome = refund.outcome
        row = RefundRow(
            entry_id=posted.id,
            sale_id=refund.sale_id,
            points_taken_back=outcome.points_taken_back,
            points_given_back=outcome.points_given_back,
            points_owed=refund.points_owed,
            amount_refunded=outcome.amount_refunded,
            created_at=datetime.now(UTC),
        )
        self.session.add(row)
        await self.session.flush()
        for line_no, quantity in outcome.quantities.items():
            self.session.add(RefundLineRow(refund_id=row.id, line_no=line_no, quantity=quantity))
            await self.session.execute(
                update(SaleLineRow)
                .where(SaleLineRow.sale_id == refund.sale_id, SaleLineRow.line_no == line_no)
                .values(refunded_quantity=SaleLineRow.refunded_quantity + quantity)
            )

    async def refund_of(self, entry_id: int) -> Refund | None:
        row = (
            await self.session.execute(select(RefundRow).where(RefundRow.entry_id == entry_id))
        ).scalar_one_or_none()
        if row is None:
            return None
        lines = await self.session.execute(
            select(RefundLineRow).where(RefundLineRow.refund_id == row.id)
        )
        outcome = RefundOutcome(
            row.points_taken_back,
            row.points_given_back,
            row.amount_refunded,
            {line.line_no: line.quantity for line in lines.scalars()},
        )
        return Refund(row.sale_id, outcome, row.points_owed)

    async def _sale(self, earn_entry_id: int) -> SaleRow | None:
        query = select(SaleRow).where(SaleRow.journal_entry_id == earn_entry_id)
        return (await self.session.execute(query)).scalar_one_or_none()


def _line_rows(sale_id: int, calculation: EarnCalculation) -> list[SaleLineRow]:
    return [
        SaleLineRow(
            sale_id=sale_id,
            line_no=line.line_no,
            sku=line.line.sku,
            category=line.line.category,
            quantity=line.line.quantity,
            unit_price=line.line.unit_price,
            amount=line.line.amount,
            points_per_unit=line.rate,
            earning_amount=line.amount,
            multiplier=line.multiplier,
            points=line.points,
        )
        for line in calculation.lines
    ]


def _contribution_rows(sale: SaleRow, calculation: EarnCalculation) -> list[EarnContributionRow]:
    return [
        EarnContributionRow(
            sale_id=sale.id,
            customer_id=sale.customer_id,
            rule_id=None if part.rule is None else part.rule.id,
            rule_version=None if part.rule is None else part.rule.version,
            rule_name=None if part.rule is None else part.rule.name,
            kind=part.kind.value,
            line_no=part.line_no,
            points=part.points,
            occurred_at=sale.occurred_at,
        )
        for part in calculation.contributions
    ]


def _sold_line(row: SaleLineRow) -> SoldLine:
    # Sales recorded before the rules engine kept no exact points per line.
    points = row.points if row.points is not None else row.amount * row.points_per_unit
    return SoldLine(row.line_no, row.quantity, row.amount, points, row.refunded_quantity)
