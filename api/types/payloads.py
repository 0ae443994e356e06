"""Output types of the mutations and the smaller queries."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.context import Info
from api.types.breakdown import PointsBreakdown, preview_breakdown
from api.types.bulk_awards import BulkAward
from api.types.common import UserError
from api.types.customers import Customer
from api.types.programme import Reward
from api.types.sales import Redemption
from api.types.transactions import PointsTransaction
from domain.errors import DomainError
from domain.rewards import Redemption as DomainRedemption
from domain.sale_services import EarnPreview as DomainEarnPreview
from domain.stores import Store as DomainStore
from persistence.queries import TransactionView


@strawberry.type
class Store:
    id: strawberry.ID
    name: str

    @classmethod
    def of(cls, store: DomainStore) -> Store:
        return cls(id=strawberry.ID(store.id), name=store.name)


@strawberry.type
class StorePayload:
    store: Store | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def failed(cls, error: DomainError) -> StorePayload:
        return cls(user_errors=[UserError.of(error)])


@strawberry.type
class EnrollCustomerPayload:
    customer: Customer | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def failed(cls, error: DomainError) -> EnrollCustomerPayload:
        return cls(user_errors=[UserError.of(error)])


@strawberry.type
class PointsPayload:
    transaction: PointsTransaction | None = None
    redemption: Redemption | None = strawberry.field(
        default=None, description="For a redemption: what the till must apply."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)
    customer_id: strawberry.Private[str | None] = None

    @strawberry.field
    async def customer(self, info: Info) -> Customer | None:
        """The customer as it stands after the change."""
        if self.customer_id is None:
            return None
        view = await info.context.customers.load(self.customer_id)
        return None if view is None else Customer.of(view)

    @classmethod
    def succeeded(
        cls, view: TransactionView, redemption: DomainRedemption | None = None
    ) -> PointsPayload:
        return cls(
            transaction=PointsTransaction.of(view),
            redemption=Redemption.of(redemption),
            customer_id=view.customer_id,
        )

    @classmethod
    def failed(cls, error: DomainError) -> PointsPayload:
        return cls(user_errors=[UserError.of(error)])


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
            breakdown=preview_breakdown(preview.calculation),
        )


@strawberry.type
class BalanceChange:
    customer_id: strawberry.ID
    balance: int
    balance_version: int
    delta: int = strawberry.field(
        description="Zero for the first message, which is the balance as it stands."
    )
    transaction: PointsTransaction | None = strawberry.field(
        description="Null for the first message."
    )
    occurred_at: datetime

    @classmethod
    def of(cls, view: TransactionView) -> BalanceChange:
        return cls(
            customer_id=strawberry.ID(view.customer_id),
            balance=view.balance_after,
            balance_version=view.balance_version,
            delta=view.points,
            transaction=PointsTransaction.of(view),
            occurred_at=view.created_at,
        )


@strawberry.type
class BulkAwardPayload:
    bulk_award: BulkAward | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def failed(cls, error: DomainError) -> BulkAwardPayload:
        return cls(user_errors=[UserError.of(error)])
