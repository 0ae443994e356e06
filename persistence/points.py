"""The points feature's records beside the journal: sales with their lines and each rule's
part, refunds of them, and what the till was told to apply for points spent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ledger import PostedEntry
from domain.points import Checkout, RecordedSale, TillSale
from domain.refunds import Refund, RefundOutcome, SoldLine, SoldSale
from domain.rewards import Redemption, RedemptionKind
from domain.rules import Contribution, ContributionKind, LinePoints
from domain.sales import SaleLine, sale_total
from persistence import driver
from persistence.analytics import inbox
from persistence.analytics.inbox import Counted
from persistence.base import table_of
from persistence.journal import SqlAlchemyJournalRepository
from persistence.models import (
    EarnContributionRow,
    RedemptionRow,
    RefundLineRow,
    RefundRow,
    SaleLineRow,
    SaleRow,
)
from persistence.records import columns_of, record_of
from persistence.with_children import Children, InsertWithChildren, together

INSERT_SALE = insert(table_of(SaleRow)).returning(SaleRow.id)
INSERT_SALE_LINES = insert(table_of(SaleLineRow))
INSERT_CONTRIBUTIONS = insert(table_of(EarnContributionRow))
# The columns a sale's children are given (their ids, their sale's id and what a refund
# later sets are not).
SALE_LINE_COLUMNS = (
    "line_no",
    "sku",
    "category",
    "quantity",
    "unit_price",
    "amount",
    "points_per_unit",
    "earning_amount",
    "multiplier",
    "points",
)
CONTRIBUTION_COLUMNS = (
    "customer_id",
    "rule_id",
    "rule_version",
    "rule_name",
    "kind",
    "line_no",
    "points",
    "occurred_at",
)


@cache
def _sale_with_children(sale_columns: tuple[str, ...]) -> InsertWithChildren:
    """The sale with its lines and parts in one statement, built once for each set of the
    sale's columns given (a checkout gives its timing too)."""
    return InsertWithChildren(
        table_of(SaleRow),
        sale_columns,
        [
            Children(table_of(SaleLineRow), "sale_id", SALE_LINE_COLUMNS),
            Children(table_of(EarnContributionRow), "sale_id", CONTRIBUTION_COLUMNS),
        ],
    )


class SqlAlchemySaleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, recorded: RecordedSale) -> None:
        """The sale, its lines and each rule's part: one statement on PostgreSQL
        (persistence/with_children.py), three on SQLite."""
        calculation, sale = recorded.calculation, recorded.sale
        values = _sale_values(recorded)
        lines = [_line_values(line) for line in calculation.lines]
        parts = [_contribution_values(sale, part) for part in calculation.contributions]
        if together(self.session):
            combined = _sale_with_children(tuple(values))
            inserted = await driver.first(
                self.session, combined.statement, combined.values(values, [lines, parts])
            )
            assert inserted is not None
            sale_id: int = inserted["id"]
        else:
            sale_id = await self._record_one_by_one(values, lines, parts)
        inbox.enqueue_at_commit(self.session, Counted.SALE, [sale_id])

    async def _record_one_by_one(
        self,
        values: dict[str, Any],
        lines: list[dict[str, Any]],
        parts: list[dict[str, Any]],
    ) -> int:
        inserted = await driver.first(self.session, INSERT_SALE, values)
        assert inserted is not None
        sale_id: int = inserted["id"]
        for rows, statement in ((lines, INSERT_SALE_LINES), (parts, INSERT_CONTRIBUTIONS)):
            await driver.execute_many(
                self.session, statement, [{"sale_id": sale_id, **row} for row in rows]
            )
        return sale_id

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
        return record_of(
            SoldSale,
            row,
            entry_id=row.journal_entry_id,
            lines=tuple(_sold_line(line) for line in lines.scalars()),
            money_paid=row.total - (row.discount or 0),
        )

    async def record_refund(self, posted: PostedEntry, refund: Refund) -> None:
        outcome = refund.outcome
        values = columns_of(outcome, left_out=("quantities",)) | columns_of(
            refund, left_out=("outcome",), entry_id=posted.id, created_at=datetime.now(UTC)
        )
        refund_id = await self.session.scalar(
            insert(table_of(RefundRow)).values(values).returning(RefundRow.id)
        )
        for line_no, quantity in outcome.quantities.items():
            self.session.add(RefundLineRow(refund_id=refund_id, line_no=line_no, quantity=quantity))
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
        quantities = {line.line_no: line.quantity for line in lines.scalars()}
        outcome = record_of(RefundOutcome, row, quantities=quantities)
        return record_of(Refund, row, outcome=outcome)

    async def _sale(self, earn_entry_id: int) -> SaleRow | None:
        query = select(SaleRow).where(SaleRow.journal_entry_id == earn_entry_id)
        return (await self.session.execute(query)).scalar_one_or_none()


def _sale_values(recorded: RecordedSale) -> dict[str, Any]:
    sale = recorded.sale
    return {
        "journal_entry_id": recorded.earned.id,
        "customer_id": sale.customer_id,
        "store_id": sale.store_id,
        "terminal_id": sale.terminal_id,
        "sale_ref": sale.sale_id,
        "total": sale_total(sale.lines),
        "points": recorded.points,
        "occurred_at": sale.occurred_at,
        "discount": recorded.discount,
        "redeem_entry_id": None if recorded.redeemed is None else recorded.redeemed.id,
        "points_redeemed": recorded.points_redeemed,
        **_timing(sale),
    }


def _timing(sale: TillSale) -> dict[str, Any]:
    """When it was recorded and by whom; a checkout's processing time in milliseconds: from
    when the till began ringing it up to when it happened, else the server's own time."""
    recorded_at = sale.recorded_at or sale.occurred_at
    timing: dict[str, Any] = {
        "recorded_at": recorded_at,
        "recorded_by_staff": None if sale.actor is None else sale.actor.staff_id,
        "is_checkout": isinstance(sale, Checkout),
    }
    if isinstance(sale, Checkout):
        timing |= {"started_at": sale.started_at, "processing_ms": _processing_ms(sale)}
    return timing


def _processing_ms(sale: Checkout) -> int | None:
    """None when neither the till nor the server timed it (a sale imported, not received)."""
    if sale.started_at is not None:
        return _milliseconds(sale.occurred_at - sale.started_at)
    if sale.recorded_at is None:
        return None
    return _milliseconds(datetime.now(UTC) - sale.recorded_at)


def _milliseconds(elapsed: timedelta) -> int:
    return max(0, elapsed // timedelta(milliseconds=1))


def _line_values(line: LinePoints) -> dict[str, Any]:
    """A line as it earned: its amount, and the part of it that earned (`earning_amount`)."""
    return columns_of(
        line.line,
        line_no=line.line_no,
        amount=line.line.amount,
        points_per_unit=line.rate,
        earning_amount=line.amount,
        multiplier=line.multiplier,
        points=line.points,
    )


def _contribution_values(sale: TillSale, part: Contribution) -> dict[str, Any]:
    """A rule version's part, kept with the customer and the time for per-day caps."""
    rule = part.rule
    return columns_of(
        part,
        left_out=("rule",),
        customer_id=sale.customer_id,
        occurred_at=sale.occurred_at,
        kind=part.kind.value,
        rule_id=None if rule is None else rule.id,
        rule_version=None if rule is None else rule.version,
        rule_name=None if rule is None else rule.name,
    )


def _sold_line(row: SaleLineRow) -> SoldLine:
    return record_of(SoldLine, row, points=line_points(row).points)


def line_points(row: SaleLineRow, parts: Sequence[Contribution] = ()) -> LinePoints:
    """A recorded line as the rules computed it, its rate and multiplier rules those of its
    parts. Lines recorded before the rules engine earned on their whole amount, unmultiplied."""
    rules = {part.kind: part.rule for part in parts if part.line_no == row.line_no}
    return LinePoints(
        line_no=row.line_no,
        line=record_of(SaleLine, row),
        amount=row.amount if row.earning_amount is None else row.earning_amount,
        rate=row.points_per_unit,
        rate_rule=rules.get(ContributionKind.RATE),
        multiplier=Decimal(1) if row.multiplier is None else row.multiplier,
        multiplier_rule=rules.get(ContributionKind.MULTIPLIER),
    )


class SqlAlchemyRedemptionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entry_id: int, redemption: Redemption) -> None:
        values = columns_of(redemption, kind=redemption.kind.value, entry_id=entry_id)
        await self.session.execute(insert(table_of(RedemptionRow)).values(values))

    async def get(self, entry_id: int) -> Redemption | None:
        row = await self.session.get(RedemptionRow, entry_id)
        return None if row is None else redemption_of(row)


def redemption_of(row: RedemptionRow) -> Redemption:
    return record_of(Redemption, row, kind=RedemptionKind(row.kind))
