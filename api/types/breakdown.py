"""Why a sale earns what it does: its lines and each rule version's part."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from api.types.scalars import DecimalText, money
from domain.rules import ContributionKind, EarnCalculation
from domain.rules import RuleRef as DomainRuleRef
from persistence.programme_queries import ContributionView, LineView, SaleBreakdown

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
    def of(cls, line: LineView) -> BreakdownLine:
        return cls(
            line_number=line.line_no,
            sku=line.sku,
            category=line.category,
            quantity=line.quantity,
            unit_price=_exact(line.unit_price),
            amount=_exact(line.amount),
            earning_amount=_exact(line.earning_amount),
            rate=_exact(line.rate),
            multiplier=_exact(line.multiplier),
            points=_exact(line.points),
            refunded_quantity=line.refunded_quantity,
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
    def of(cls, part: ContributionView) -> EarnPart:
        return cls(
            kind=ContributionKind(part.kind),
            rule_id=None if part.rule_id is None else strawberry.ID(part.rule_id),
            rule_version=part.rule_version,
            rule_name=part.rule_name,
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
        return cls(
            points=sale.points,
            exact_points=_exact(sale.exact_points),
            total=_exact(sale.total),
            discount=_exact(sale.discount),
            points_redeemed=sale.points_redeemed,
            lines=[BreakdownLine.of(line) for line in sale.lines],
            parts=[EarnPart.of(part) for part in sale.contributions],
            transaction_id=None
            if sale.earn_entry_id is None
            else strawberry.ID(str(sale.earn_entry_id)),
            refund_transaction_ids=[strawberry.ID(str(i)) for i in sale.refund_entry_ids],
        )


def preview_breakdown(calculation: EarnCalculation) -> PointsBreakdown:
    """A calculation not (yet) recorded, shown as a recorded sale's breakdown is."""
    lines = tuple(
        LineView(
            line_no=line.line_no,
            sku=line.line.sku,
            category=line.line.category,
            quantity=line.line.quantity,
            unit_price=line.line.unit_price,
            amount=line.line.amount,
            earning_amount=line.amount,
            rate=line.rate,
            multiplier=line.multiplier,
            points=line.points,
            refunded_quantity=0,
        )
        for line in calculation.lines
    )
    parts = tuple(
        ContributionView(part.kind.value, *_rule_columns(part.rule), part.line_no, part.points)
        for part in calculation.contributions
    )
    total = sum((line.amount for line in lines), Decimal(0))
    return PointsBreakdown.of(
        SaleBreakdown(None, total, Decimal(0), 0, calculation.points, lines, parts, ())
    )


def _rule_columns(rule: DomainRuleRef | None) -> tuple[str | None, int | None, str | None]:
    return (None, None, None) if rule is None else (rule.id, rule.version, rule.name)
