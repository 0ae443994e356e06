"""Earning rules and rewards as administrators manage them."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

import strawberry

from api.context import Info
from api.types.common import UserError
from api.types.scalars import DecimalText, money
from api.types.transactions import Recorder
from domain.errors import DomainError, FieldPath, InvalidInput
from domain.points import parse_decimal, require_label
from domain.programme import check_timezone
from domain.rewards import RedemptionKind, RewardKind
from domain.rewards import Reward as DomainReward
from domain.rules import EarningRule as DomainRule
from domain.rules import RuleKind, Schedule
from persistence.programme_queries import RuleVersionView

strawberry.enum(RuleKind, name="EarningRuleKind")
strawberry.enum(RewardKind, name="RewardKind")
strawberry.enum(RedemptionKind, name="RedemptionKind")


@strawberry.type(description="One version of an earning rule.")
class EarningRule:
    id: strawberry.ID
    version: int
    name: str
    kind: RuleKind
    rate: DecimalText | None = strawberry.field(
        description="Points per 1.00 for the rate kinds; the factor of a multiplier."
    )
    bonus_points: int | None
    category: str | None
    sku: str | None
    store_ids: list[strawberry.ID] = strawberry.field(description="None = every store.")
    starts_at: datetime | None
    ends_at: datetime | None
    days_of_week: list[int] = strawberry.field(description="ISO days, 1 = Monday; none = all.")
    from_time: str | None = strawberry.field(description="Local HH:MM, in `timezone`.")
    until_time: str | None
    timezone: str
    min_spend: DecimalText | None
    max_points_per_sale: int | None
    max_points_per_customer_per_day: int | None
    active: bool
    current: bool = strawberry.field(description="False for a version later edited.")
    saved_at: datetime
    saver: strawberry.Private[Recorder | None]

    @strawberry.field(description="Who saved this version. Managers and admins only.")
    def saved_by(self, info: Info) -> Recorder | None:
        principal = info.context.principal
        return self.saver if principal is not None and principal.sees_audit else None

    @classmethod
    def of(cls, view: RuleVersionView) -> EarningRule:
        rule, schedule, actor = view.rule, view.rule.schedule, view.saved_by
        return cls(
            id=strawberry.ID(rule.id),
            version=rule.version,
            name=rule.name,
            kind=rule.kind,
            rate=money(rule.rate),
            bonus_points=rule.bonus_points,
            category=rule.category,
            sku=rule.sku,
            store_ids=[strawberry.ID(store) for store in sorted(rule.store_ids)],
            starts_at=schedule.starts_at,
            ends_at=schedule.ends_at,
            days_of_week=sorted(schedule.days_of_week),
            from_time=_clock(schedule.from_time),
            until_time=_clock(schedule.until_time),
            timezone=schedule.timezone,
            min_spend=money(rule.min_spend),
            max_points_per_sale=rule.max_points_per_sale,
            max_points_per_customer_per_day=rule.max_points_per_customer_per_day,
            active=rule.active,
            current=view.is_current,
            saved_at=view.saved_at,
            saver=None if actor is None else Recorder.of(actor),
        )


def _clock(value: time | None) -> str | None:
    return None if value is None else value.strftime("%H:%M")


def _parse_clock(raw: str | None, name: str) -> time | None:
    if raw is None or not raw.strip():
        return None
    try:
        return time.fromisoformat(raw.strip()).replace(second=0, microsecond=0)
    except ValueError:
        raise InvalidInput(f"{name} must be a time such as 17:30", ("input", name)) from None


def _optional_decimal(raw: str | None, name: str) -> Decimal | None:
    return None if raw is None else parse_decimal(raw, ("input", name), what=name)


def _optional_label(raw: str | None, path: FieldPath, what: str) -> str | None:
    return None if raw is None or not raw.strip() else require_label(raw, path, what=what)


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidInput(f"{name} needs a UTC offset", ("input", name))
    return value


@strawberry.input(
    description="An earning rule. Fields a kind does not use must be left out; categories "
    "and skus are free text, matched exactly as the till sends them."
)
class EarningRuleInput:
    name: str
    kind: RuleKind
    rate: DecimalText | None = None
    bonus_points: int | None = None
    category: str | None = None
    sku: str | None = None
    store_ids: list[strawberry.ID] | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    days_of_week: list[int] | None = None
    from_time: str | None = None
    until_time: str | None = None
    timezone: str = "UTC"
    min_spend: DecimalText | None = None
    max_points_per_sale: int | None = None
    max_points_per_customer_per_day: int | None = None
    active: bool = True

    def to_rule(self) -> DomainRule:
        """A draft (no id, version 0): the use case numbers it."""
        schedule = Schedule(
            starts_at=_aware(self.starts_at, "startsAt"),
            ends_at=_aware(self.ends_at, "endsAt"),
            days_of_week=frozenset(self.days_of_week or ()),
            from_time=_parse_clock(self.from_time, "fromTime"),
            until_time=_parse_clock(self.until_time, "untilTime"),
            timezone=check_timezone(self.timezone.strip()),
        )
        return DomainRule(
            id="",
            version=0,
            name=require_label(self.name, ("input", "name"), what="name"),
            kind=self.kind,
            rate=_optional_decimal(self.rate, "rate"),
            bonus_points=self.bonus_points,
            category=_optional_label(self.category, ("input", "category"), "category"),
            sku=_optional_label(self.sku, ("input", "sku"), "sku"),
            store_ids=frozenset(str(store).strip() for store in self.store_ids or ()),
            schedule=schedule,
            min_spend=_optional_decimal(self.min_spend, "minSpend"),
            max_points_per_sale=self.max_points_per_sale,
            max_points_per_customer_per_day=self.max_points_per_customer_per_day,
            active=self.active,
        )


@strawberry.type
class EarningRulePayload:
    earning_rule: EarningRule | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def failed(cls, error: DomainError) -> EarningRulePayload:
        return cls(user_errors=[UserError.of(error)])


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
            discount_amount=_optional_decimal(self.discount_amount, "discountAmount"),
            discount_percent=_optional_decimal(self.discount_percent, "discountPercent"),
            sku=_optional_label(self.sku, ("input", "sku"), "sku"),
            starts_at=_aware(self.starts_at, "startsAt"),
            ends_at=_aware(self.ends_at, "endsAt"),
            store_ids=frozenset(str(store).strip() for store in self.store_ids or ()),
            stock=self.stock,
        )


@strawberry.type
class RewardPayload:
    reward: Reward | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def failed(cls, error: DomainError) -> RewardPayload:
        return cls(user_errors=[UserError.of(error)])
