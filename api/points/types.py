"""What the points feature answers: the mutations' payloads, what the till applies for
points spent, and a sale's preview."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.context import Info
from api.customers.types import Customer
from api.mutations import UserError
from api.points.breakdown import PointsBreakdown
from api.points.transactions import PointsTransaction
from api.programme.rewards import Reward
from api.scalars import DecimalText, money
from domain.customers import Customer as DomainCustomer
from domain.points import SaleBreakdown
from domain.rewards import Redemption as DomainRedemption
from domain.rewards import RedemptionKind
from domain.use_cases.points import CheckedOut, PointsMoved, Refunded
from domain.use_cases.points import EarnPreview as DomainEarnPreview

strawberry.enum(RedemptionKind, name="RedemptionKind")


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


@strawberry.type
class ChangedCustomer:
    """A payload whose customer is as the change left it: as its transaction saved it, or,
    for a retry answered from its key, read as it stands."""

    customer_id: strawberry.Private[str | None] = None
    as_saved: strawberry.Private[DomainCustomer | None] = None

    @strawberry.field(description="The customer as it stands after the change.")
    async def customer(self, info: Info) -> Customer | None:
        if self.as_saved is not None:
            return Customer.of(self.as_saved)
        if self.customer_id is None:
            return None
        customer = await info.context.loaders.customers.load(self.customer_id)
        return None if customer is None else Customer.of(customer)


@strawberry.type
class PointsPayload(ChangedCustomer):
    transaction: PointsTransaction | None = None
    redemption: Redemption | None = strawberry.field(
        default=None, description="For a redemption: what the till must apply."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def of(cls, moved: PointsMoved, as_saved: DomainCustomer | None = None) -> PointsPayload:
        return cls(
            transaction=PointsTransaction.of(moved.posted),
            redemption=Redemption.of(moved.redemption),
            customer_id=moved.posted.entry.customer_id,
            as_saved=as_saved,
        )


@strawberry.type
class CheckoutPayload(ChangedCustomer):
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

    @classmethod
    def of(cls, checked_out: CheckedOut, as_saved: DomainCustomer | None = None) -> CheckoutPayload:
        redeemed = checked_out.redeemed
        return cls(
            earned=PointsTransaction.of(checked_out.earned),
            redeemed=None if redeemed is None else PointsTransaction.of(redeemed),
            redemption=Redemption.of(checked_out.redemption),
            amount_due=money(checked_out.amount_due),
            customer_id=checked_out.earned.entry.customer_id,
            as_saved=as_saved,
        )


@strawberry.type
class RefundPayload(ChangedCustomer):
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

    @classmethod
    def of(cls, refunded: Refunded, as_saved: DomainCustomer | None = None) -> RefundPayload:
        posted, outcome = refunded.reversal, refunded.refund.outcome
        return cls(
            transaction=PointsTransaction.of(posted),
            points_taken_back=outcome.points_taken_back,
            points_given_back=outcome.points_given_back,
            points_owed=refunded.refund.points_owed,
            amount_refunded=money(outcome.amount_refunded),
            customer_id=posted.entry.customer_id,
            as_saved=as_saved,
        )


@strawberry.type
class EarnPreview:
    points: int
    projected_balance: int | None = strawberry.field(
        description="Balance after the sale, when a customer was given."
    )
    rewards_in_reach: list[Reward] = strawberry.field(
        description="Rewards the projected balance can pay for."
    )
    next_reward: Reward | None = strawberry.field(
        description="The cheapest reward still out of reach, and how many points it needs."
    )
    points_to_next_reward: int | None
    breakdown: PointsBreakdown = strawberry.field(
        description="Why: each line and each rule's part, as earnPoints would record them."
    )

    @classmethod
    def of(cls, preview: DomainEarnPreview, now: datetime) -> EarnPreview:
        outlook = preview.outlook
        next_reward = outlook.next_reward
        return cls(
            points=preview.points,
            projected_balance=preview.projected_balance,
            rewards_in_reach=[Reward.of(reward, now) for reward in outlook.in_reach],
            next_reward=None if next_reward is None else Reward.of(next_reward, now),
            points_to_next_reward=outlook.points_to_next,
            breakdown=PointsBreakdown.of(SaleBreakdown.of_preview(preview.calculation)),
        )
