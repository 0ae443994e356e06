"""Why a sale earns what it does: its lines and each rule version's part."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from api.scalars import DecimalText, money
from domain.points import SaleBreakdown
from domain.rules import Contribution, ContributionKind, LinePoints

strawberry.enum(ContributionKind, name="EarnPartKind")


def _exact(value: Decimal) -> DecimalText:
    text = money(value)
    assert text is not None
    return text


@strawberry.type(description="A line of the sale and how it earned.")
class BreakdownLine:
    line_number: int
    sku: str
    category: str
    quantity: int
    unit_price: DecimalText
    amount: DecimalText
    earning_amount: DecimalText = strawberry.field(
        description="The part of the amount that earned: less than `amount` where points paid "
        "for part of it."
    )
    rate: DecimalText = strawberry.field(description="Points per 1.00.")
    multiplier: DecimalText
    points: DecimalText = strawberry.field(description="Exact, before rounding.")
    refunded_quantity: int

    @classmethod
    def of(cls, line: LinePoints, refunded_quantity: int) -> BreakdownLine:
        sold = line.line
        return cls(
            line_number=line.line_no,
            sku=sold.sku,
            category=sold.category,
            quantity=sold.quantity,
            unit_price=_exact(sold.unit_price),
            amount=_exact(sold.amount),
            earning_amount=_exact(line.amount),
            rate=_exact(line.rate),
            multiplier=_exact(line.multiplier),
            points=_exact(line.points),
            refunded_quantity=refunded_quantity,
        )


@strawberry.type(description="What one rule version gave, or a cap took back.")
class EarnPart:
    kind: ContributionKind
    rule_id: strawberry.ID | None = strawberry.field(
        description="Null for the programme's base rate (no rule)."
    )
    rule_version: int | None
    rule_name: str | None
    line_number: int | None = strawberry.field(description="Null for bonuses and caps.")
    points: DecimalText

    @classmethod
    def of(cls, part: Contribution) -> EarnPart:
        rule = part.rule
        return cls(
            kind=part.kind,
            rule_id=None if rule is None else strawberry.ID(rule.id),
            rule_version=None if rule is None else rule.version,
            rule_name=None if rule is None else rule.name,
            line_number=part.line_no,
            points=_exact(part.points),
        )


@strawberry.type(
    description="The parts add up to exactPoints, which is rounded down once to points."
)
class PointsBreakdown:
    points: int
    exact_points: DecimalText
    total: DecimalText
    discount: DecimalText = strawberry.field(description="Money off paid with points.")
    points_redeemed: int
    lines: list[BreakdownLine]
    parts: list[EarnPart]
    transaction_id: strawberry.ID | None = strawberry.field(
        description="The transaction that earned on the sale; null for a preview."
    )
    refund_transaction_ids: list[strawberry.ID]

    @classmethod
    def of(cls, sale: SaleBreakdown) -> PointsBreakdown:
        refunded = sale.refunded_quantities
        return cls(
            points=sale.points,
            exact_points=_exact(sale.exact_points),
            total=_exact(sale.total),
            discount=_exact(sale.discount),
            points_redeemed=sale.points_redeemed,
            lines=[BreakdownLine.of(line, refunded.get(line.line_no, 0)) for line in sale.lines],
            parts=[EarnPart.of(part) for part in sale.contributions],
            transaction_id=None
            if sale.earn_entry_id is None
            else strawberry.ID(str(sale.earn_entry_id)),
            refund_transaction_ids=[strawberry.ID(str(i)) for i in sale.refund_entry_ids],
        )
