"""Checkout, refunds and what the till applies for points spent."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.context import Info
from api.types.common import UserError
from api.types.customers import Customer
from api.types.inputs import SaleLineInput, sale_lines_of
from api.types.scalars import DecimalText, money
from api.types.transactions import PointsTransaction
from domain import commands
from domain.errors import DomainError, FieldPath, InvalidInput
from domain.ledger import Actor
from domain.rewards import Redemption as DomainRedemption
from domain.rewards import RedemptionKind
from domain.sale_services import CheckoutResult, RefundResult
from persistence.queries import TransactionView


@strawberry.type(description="What the till must apply for the points spent.")
class Redemption:
    kind: RedemptionKind
    reward_id: strawberry.ID | None
    discount_amount: DecimalText | None = strawberry.field(
        description="Money off, for discounts and points spent as money."
    )
    discount_percent: DecimalText | None
    sku: str | None = strawberry.field(description="The free item.")
    voucher_code: str | None

    @classmethod
    def of(cls, redemption: DomainRedemption | None) -> Redemption | None:
        if redemption is None:
            return None
        return cls(
            kind=redemption.kind,
            reward_id=None if redemption.reward_id is None else strawberry.ID(redemption.reward_id),
            discount_amount=money(redemption.discount_amount),
            discount_percent=money(redemption.discount_percent),
            sku=redemption.sku,
            voucher_code=redemption.voucher_code,
        )


@strawberry.input(
    description="A completed sale: what it spends (a reward, or points as money off) and "
    "what it earns, once."
)
class CheckoutInput:
    customer_id: strawberry.ID
    idempotency_key: str
    store_id: strawberry.ID
    terminal_id: strawberry.ID | None = None
    sale_id: str | None = None
    lines: list[SaleLineInput]
    reward_id: strawberry.ID | None = strawberry.field(
        default=None, description="A reward to spend on the sale."
    )
    points: int | None = strawberry.field(
        default=None, description="Points to spend as money off (not with rewardId)."
    )

    def to_command(self, now: datetime, actor: Actor) -> commands.Checkout:
        return commands.Checkout(
            customer_id=str(self.customer_id),
            idempotency_key=commands.idempotency_key(self.idempotency_key),
            store_id=str(self.store_id),
            terminal_id=commands.optional_reference(self.terminal_id, "terminalId"),
            sale_id=commands.optional_reference(self.sale_id, "saleId"),
            lines=sale_lines_of(self.lines),
            reward_id=None if self.reward_id is None else str(self.reward_id),
            points=self.points,
            occurred_at=now,
            actor=actor,
        )


@strawberry.type
class CheckoutPayload:
    earned: PointsTransaction | None = strawberry.field(
        default=None, description="The EARN transaction; refunds name it."
    )
    redeemed: PointsTransaction | None = strawberry.field(
        default=None, description="The REDEEM transaction, when points were spent."
    )
    redemption: Redemption | None = None
    amount_due: DecimalText | None = strawberry.field(
        default=None, description="The sale's total less the money off paid with points."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)
    customer_id: strawberry.Private[str | None] = None

    @strawberry.field(description="The customer after the sale.")
    async def customer(self, info: Info) -> Customer | None:
        return await _customer(info, self.customer_id)

    @classmethod
    def succeeded(cls, result: CheckoutResult) -> CheckoutPayload:
        earned = result.earned
        redeemed = None if result.redeemed is None else TransactionView.of(result.redeemed)
        return cls(
            earned=PointsTransaction.of(TransactionView.of(earned.posted)),
            redeemed=None if redeemed is None else PointsTransaction.of(redeemed),
            redemption=Redemption.of(earned.redemption),
            amount_due=money(result.amount_due),
            customer_id=earned.posted.entry.customer_id,
        )

    @classmethod
    def failed(cls, error: DomainError) -> CheckoutPayload:
        return cls(user_errors=[UserError.of(error)])


async def _customer(info: Info, customer_id: str | None) -> Customer | None:
    if customer_id is None:
        return None
    view = await info.context.customers.load(customer_id)
    return None if view is None else Customer.of(view)


@strawberry.input(description="Units of one line of the sale, counted from 1.")
class RefundLineInput:
    line_number: int
    quantity: int


@strawberry.input(
    description="Return a sale in full (no lines) or some units of its lines. Managers, and "
    "cashiers whose token has the refund right."
)
class RefundSaleInput:
    idempotency_key: str
    store_id: strawberry.ID = strawberry.field(description="Where the goods come back.")
    terminal_id: strawberry.ID | None = None
    transaction_id: strawberry.ID = strawberry.field(
        description="The EARN transaction of the sale (checkout's `earned`)."
    )
    lines: list[RefundLineInput] | None = None
    reason: str | None = None

    def to_command(self, now: datetime, actor: Actor) -> commands.RefundSale:
        return commands.RefundSale(
            transaction_id=entry_id(str(self.transaction_id), ("input", "transactionId")),
            idempotency_key=commands.idempotency_key(self.idempotency_key),
            store_id=str(self.store_id),
            terminal_id=commands.optional_reference(self.terminal_id, "terminalId"),
            quantities=_quantities(self.lines or []),
            reason=commands.optional_reference(self.reason, "reason"),
            occurred_at=now,
            actor=actor,
        )


def entry_id(raw: str, field: FieldPath) -> int:
    """A transaction id as this API hands them out."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise InvalidInput("transactionId is not a transaction of this API", field)
    return int(text)


def _quantities(lines: list[RefundLineInput]) -> tuple[tuple[int, int], ...]:
    numbers = [line.line_number for line in lines]
    if len(set(numbers)) != len(numbers):
        raise InvalidInput("name each line once", ("input", "lines"))
    return tuple(sorted((line.line_number, line.quantity) for line in lines))


@strawberry.type
class RefundPayload:
    transaction: PointsTransaction | None = strawberry.field(
        default=None, description="The REVERSAL transaction."
    )
    points_taken_back: int | None = None
    points_given_back: int | None = None
    points_owed: int | None = strawberry.field(
        default=None,
        description="Points taken back that the balance could not cover: the customer's "
        "next earnings pay them off.",
    )
    amount_refunded: DecimalText | None = strawberry.field(
        default=None,
        description="Money to give back: the returned units' share of what the sale cost "
        "in money (points paid the rest), rounded down to the cent; the last refund of a "
        "sale gives back the rest.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)
    customer_id: strawberry.Private[str | None] = None

    @strawberry.field(description="The customer after the refund.")
    async def customer(self, info: Info) -> Customer | None:
        return await _customer(info, self.customer_id)

    @classmethod
    def succeeded(cls, result: RefundResult) -> RefundPayload:
        posted, outcome = result.reversal.posted, result.refund.outcome
        return cls(
            transaction=PointsTransaction.of(TransactionView.of(posted)),
            points_taken_back=outcome.points_taken_back,
            points_given_back=outcome.points_given_back,
            points_owed=result.refund.points_owed,
            amount_refunded=money(outcome.amount_refunded),
            customer_id=posted.entry.customer_id,
        )

    @classmethod
    def failed(cls, error: DomainError) -> RefundPayload:
        return cls(user_errors=[UserError.of(error)])
