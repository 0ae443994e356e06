"""Earning rules as administrators manage them: each version, and the input of the next."""

from __future__ import annotations

from datetime import datetime, time

import strawberry

from api.audit import Recorder, recorder_for
from api.context import Info
from api.mutations import UserError
from api.programme.parsing import aware, optional_decimal, optional_label
from api.scalars import DecimalText, money
from domain.errors import InvalidInput
from domain.labels import require_label
from domain.programme import RuleVersion, check_timezone
from domain.rules import EarningRule as DomainRule
from domain.rules import RuleKind, Schedule, clock_text

strawberry.enum(RuleKind, name="EarningRuleKind")


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
    saved: strawberry.Private[RuleVersion]

    @strawberry.field(description="Who saved this version. Managers and admins only.")
    def saved_by(self, info: Info) -> Recorder | None:
        return recorder_for(info, self.saved.saved_by)

    @classmethod
    def of(cls, saved: RuleVersion) -> EarningRule:
        rule, schedule = saved.rule, saved.rule.schedule
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
            from_time=clock_text(schedule.from_time),
            until_time=clock_text(schedule.until_time),
            timezone=schedule.timezone,
            min_spend=money(rule.min_spend),
            max_points_per_sale=rule.max_points_per_sale,
            max_points_per_customer_per_day=rule.max_points_per_customer_per_day,
            active=rule.active,
            current=saved.is_current,
            saved_at=saved.saved_at,
            saved=saved,
        )


def _parse_clock(raw: str | None, name: str) -> time | None:
    if raw is None or not raw.strip():
        return None
    try:
        return time.fromisoformat(raw.strip()).replace(second=0, microsecond=0)
    except ValueError:
        raise InvalidInput(f"{name} must be a time such as 17:30", ("input", name)) from None


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
            starts_at=aware(self.starts_at, "startsAt"),
            ends_at=aware(self.ends_at, "endsAt"),
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
            rate=optional_decimal(self.rate, "rate"),
            bonus_points=self.bonus_points,
            category=optional_label(self.category, ("input", "category"), "category"),
            sku=optional_label(self.sku, ("input", "sku"), "sku"),
            store_ids=frozenset(str(store).strip() for store in self.store_ids or ()),
            schedule=schedule,
            min_spend=optional_decimal(self.min_spend, "minSpend"),
            max_points_per_sale=self.max_points_per_sale,
            max_points_per_customer_per_day=self.max_points_per_customer_per_day,
            active=self.active,
        )


@strawberry.type
class EarningRulePayload:
    earning_rule: EarningRule | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
