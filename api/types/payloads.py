"""Output types of the mutations and the smaller queries."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.context import Info
from api.types.bulk_awards import BulkAward
from api.types.common import UserError
from api.types.customers import Customer
from api.types.transactions import PointsTransaction
from domain.errors import DomainError
from domain.rewards import Reward as DomainReward
from domain.services import EarnPreview as DomainEarnPreview
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
    def succeeded(cls, view: TransactionView) -> PointsPayload:
        return cls(transaction=PointsTransaction.of(view), customer_id=view.customer_id)

    @classmethod
    def failed(cls, error: DomainError) -> PointsPayload:
        return cls(user_errors=[UserError.of(error)])


@strawberry.type
class Reward:
    id: strawberry.ID
    name: str
    points_cost: int
    active: bool

    @classmethod
    def of(cls, reward: DomainReward) -> Reward:
        return cls(
            id=strawberry.ID(reward.id),
            name=reward.name,
            points_cost=reward.points_cost,
            active=reward.active,
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

    @classmethod
    def of(cls, preview: DomainEarnPreview) -> EarnPreview:
        outlook = preview.outlook
        return cls(
            points=preview.points,
            projected_balance=preview.projected_balance,
            rewards_in_reach=[Reward.of(reward) for reward in outlook.in_reach],
            next_reward=None if outlook.next_reward is None else Reward.of(outlook.next_reward),
            points_to_next_reward=outlook.points_to_next,
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
