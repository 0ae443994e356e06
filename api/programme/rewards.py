"""The rewards catalog as administrators manage it and tills read it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.mutations import UserError
from api.programme.parsing import aware, optional_decimal, optional_label
from api.scalars import DecimalText, money
from domain.labels import require_label
from domain.rewards import Reward as DomainReward
from domain.rewards import RewardKind

strawberry.enum(RewardKind, name="RewardKind")


@strawberry.type
class Reward:
    id: strawberry.ID
    name: str
    points_cost: int
    active: bool = strawberry.field(
        description="Redeemable now: enabled, within its window and in stock."
    )
    enabled: bool = strawberry.field(description="Switched on by an administrator.")
    kind: RewardKind
    discount_amount: DecimalText | None
    discount_percent: DecimalText | None
    sku: str | None = strawberry.field(description="The free item, for FREE_ITEM.")
    starts_at: datetime | None
    ends_at: datetime | None
    store_ids: list[strawberry.ID] = strawberry.field(description="None = every store.")
    stock: int | None = strawberry.field(description="Null = unlimited.")

    @classmethod
    def of(cls, reward: DomainReward, now: datetime) -> Reward:
        return cls(
            id=strawberry.ID(reward.id),
            name=reward.name,
            points_cost=reward.points_cost,
            active=reward.available_at(now),
            enabled=reward.active,
            kind=reward.kind,
            discount_amount=money(reward.discount_amount),
            discount_percent=money(reward.discount_percent),
            sku=reward.sku,
            starts_at=reward.starts_at,
            ends_at=reward.ends_at,
            store_ids=[strawberry.ID(store) for store in sorted(reward.store_ids)],
            stock=reward.stock,
        )


@strawberry.input(description="A reward of the catalog; `id` is the chain's own code.")
class RewardInput:
    id: strawberry.ID
    name: str
    points_cost: int
    kind: RewardKind
    enabled: bool = True
    discount_amount: DecimalText | None = None
    discount_percent: DecimalText | None = None
    sku: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    store_ids: list[strawberry.ID] | None = None
    stock: int | None = None

    def to_reward(self) -> DomainReward:
        return DomainReward(
            id=require_label(str(self.id), ("input", "id"), what="id")[:64],
            name=require_label(self.name, ("input", "name"), what="name"),
            points_cost=self.points_cost,
            active=self.enabled,
            kind=self.kind,
            discount_amount=optional_decimal(self.discount_amount, "discountAmount"),
            discount_percent=optional_decimal(self.discount_percent, "discountPercent"),
            sku=optional_label(self.sku, ("input", "sku"), "sku"),
            starts_at=aware(self.starts_at, "startsAt"),
            ends_at=aware(self.ends_at, "endsAt"),
            store_ids=frozenset(str(store).strip() for store in self.store_ids or ()),
            stock=self.stock,
        )


@strawberry.type
class RewardPayload:
    reward: Reward | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
