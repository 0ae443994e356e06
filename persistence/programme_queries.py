"""The read side of the programme: rules and their versions, rewards, sale breakdowns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ledger import Actor
from domain.rewards import Redemption, Reward
from domain.rules import EarningRule
from persistence.models import (
    EarnContributionRow,
    EarningRuleRow,
    RedemptionRow,
    RefundRow,
    RewardRow,
    SaleLineRow,
    SaleRow,
)
from persistence.programme import redemption_of_row, reward_of, rule_of
from persistence.repositories import actor_of


@dataclass(frozen=True)
class RuleVersionView:
    rule: EarningRule
    is_current: bool
    saved_at: datetime
    saved_by: Actor | None


def _rule_view(row: EarningRuleRow) -> RuleVersionView:
    saved_by = actor_of(row.created_by_staff, row.created_by_role, row.created_by_terminal)
    return RuleVersionView(rule_of(row), row.is_current, row.created_at, saved_by)


async def earning_rules(
    session: AsyncSession, *, include_retired: bool, at: datetime
) -> list[RuleVersionView]:
    """Current versions: those in force or waiting for their start, or (include_retired)
    also those switched off or ended."""
    query = select(EarningRuleRow).where(EarningRuleRow.is_current)
    if not include_retired:
        ended = EarningRuleRow.ends_at.is_not(None) & (EarningRuleRow.ends_at <= at)
        query = query.where(EarningRuleRow.active, ~ended)
    rows = await session.execute(query.order_by(EarningRuleRow.kind, EarningRuleRow.name))
    return [_rule_view(row) for row in rows.scalars()]


async def earning_rule_versions(session: AsyncSession, rule_id: str) -> list[RuleVersionView]:
    query = (
        select(EarningRuleRow)
        .where(EarningRuleRow.id == rule_id)
        .order_by(EarningRuleRow.version.desc())
    )
    return [_rule_view(row) for row in (await session.execute(query)).scalars()]


async def rewards(
    session: AsyncSession, *, active_only: bool, at: datetime, store_id: str | None = None
) -> list[Reward]:
    query = select(RewardRow).order_by(RewardRow.points_cost, RewardRow.id)
    found = [reward_of(row) for row in (await session.execute(query)).scalars()]
    if not active_only:
        return found
    return [reward for reward in found if reward.available_at(at, store_id)]


async def redemption(session: AsyncSession, entry_id: int) -> Redemption | None:
    row = await session.get(RedemptionRow, entry_id)
    return None if row is None else redemption_of_row(row)


@dataclass(frozen=True)
class LineView:
    line_no: int
    sku: str
    category: str
    quantity: int
    unit_price: Decimal
    amount: Decimal
    earning_amount: Decimal
    rate: Decimal
    multiplier: Decimal
    points: Decimal
    refunded_quantity: int


@dataclass(frozen=True)
class ContributionView:
    kind: str
    rule_id: str | None
    rule_version: int | None
    rule_name: str | None
    line_no: int | None
    points: Decimal


@dataclass(frozen=True)
class SaleBreakdown:
    """Why a sale earned what it did: every line and every rule version's part."""

    earn_entry_id: int | None  # None for a preview, recorded nowhere yet
    total: Decimal
    discount: Decimal
    points_redeemed: int
    points: int
    lines: tuple[LineView, ...]
    contributions: tuple[ContributionView, ...]
    refund_entry_ids: tuple[int, ...]

    @property
    def exact_points(self) -> Decimal:
        return sum((part.points for part in self.contributions), Decimal(0))

    @property
    def rounded_off(self) -> Decimal:
        """What rounding down to whole points left out."""
        exact = self.exact_points
        return exact - exact.to_integral_value(rounding=ROUND_FLOOR)


async def sale_breakdown(session: AsyncSession, entry_id: int) -> SaleBreakdown | None:
    """The breakdown of the sale earned by `entry_id`, or of the sale a refund reverses."""
    sale = await _sale_of_entry(session, entry_id)
    if sale is None:
        return None
    lines = await session.execute(
        select(SaleLineRow).where(SaleLineRow.sale_id == sale.id).order_by(SaleLineRow.line_no)
    )
    parts = await session.execute(
        select(EarnContributionRow)
        .where(EarnContributionRow.sale_id == sale.id)
        .order_by(EarnContributionRow.id)
    )
    refunds = await session.execute(
        select(RefundRow.entry_id).where(RefundRow.sale_id == sale.id).order_by(RefundRow.id)
    )
    return SaleBreakdown(
        earn_entry_id=sale.journal_entry_id,
        total=sale.total,
        discount=sale.discount or Decimal(0),
        points_redeemed=sale.points_redeemed,
        points=sale.points,
        lines=tuple(_line_view(row) for row in lines.scalars()),
        contributions=tuple(_contribution_view(row) for row in parts.scalars()),
        refund_entry_ids=tuple(refunds.scalars()),
    )


async def _sale_of_entry(session: AsyncSession, entry_id: int) -> SaleRow | None:
    query = select(SaleRow).where(SaleRow.journal_entry_id == entry_id)
    sale = (await session.execute(query)).scalar_one_or_none()
    if sale is not None:
        return sale
    refund = (
        await session.execute(select(RefundRow.sale_id).where(RefundRow.entry_id == entry_id))
    ).scalar_one_or_none()
    return None if refund is None else await session.get(SaleRow, refund)


def _line_view(row: SaleLineRow) -> LineView:
    earning_amount = row.earning_amount if row.earning_amount is not None else row.amount
    multiplier = row.multiplier if row.multiplier is not None else Decimal(1)
    points = row.points if row.points is not None else row.amount * row.points_per_unit
    return LineView(
        line_no=row.line_no,
        sku=row.sku,
        category=row.category,
        quantity=row.quantity,
        unit_price=row.unit_price,
        amount=row.amount,
        earning_amount=earning_amount,
        rate=row.points_per_unit,
        multiplier=multiplier,
        points=points,
        refunded_quantity=row.refunded_quantity,
    )


def _contribution_view(row: EarnContributionRow) -> ContributionView:
    return ContributionView(
        row.kind, row.rule_id, row.rule_version, row.rule_name, row.line_no, row.points
    )
