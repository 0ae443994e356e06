"""Administrators' changes to the programme: earning rules and rewards, validated.

Categories and skus are free text, matched exactly as the till sends them
(after trimming): the programme has no product catalogue to check them
against, so a rule for a category no till uses yet is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import InvalidInput
from domain.expiry import ExpiryPolicy
from domain.ledger import Actor
from domain.rewards import Reward, RewardKind
from domain.rules import EarningRule, RuleKind, Schedule

MAX_RATE = Decimal(1000)
MAX_MULTIPLIER = Decimal(100)
MAX_BONUS = 1_000_000
MAX_STOCK = 10_000_000
MAX_STORES = 500


def _field(name: str) -> tuple[str, ...]:
    return ("input", name)


def check_rule(rule: EarningRule) -> EarningRule:
    """The rule if it is complete and consistent; otherwise INVALID_INPUT naming the field."""
    _check_kind_fields(rule)
    _check_schedule(rule.schedule)
    if rule.min_spend is not None and rule.min_spend < 0:
        raise InvalidInput("minSpend cannot be negative", _field("minSpend"))
    for name, cap in (
        ("maxPointsPerSale", rule.max_points_per_sale),
        ("maxPointsPerCustomerPerDay", rule.max_points_per_customer_per_day),
    ):
        if cap is not None and not 1 <= cap <= MAX_BONUS:
            raise InvalidInput(f"{name} must be between 1 and {MAX_BONUS}", _field(name))
    if len(rule.store_ids) > MAX_STORES:
        raise InvalidInput(f"a rule names at most {MAX_STORES} stores", _field("storeIds"))
    return rule


def _check_kind_fields(rule: EarningRule) -> None:
    kind = rule.kind
    if kind is RuleKind.FLAT_BONUS:
        if rule.rate is not None:
            raise InvalidInput("a flat bonus has bonusPoints, not a rate", _field("rate"))
        if rule.bonus_points is None or not 1 <= rule.bonus_points <= MAX_BONUS:
            raise InvalidInput(
                f"a flat bonus needs bonusPoints between 1 and {MAX_BONUS}", _field("bonusPoints")
            )
        return
    if rule.bonus_points is not None:
        raise InvalidInput(f"a {kind} rule has a rate, not bonusPoints", _field("bonusPoints"))
    _check_rate(kind, rule.rate)
    if kind is RuleKind.BASE_RATE and (rule.category or rule.sku):
        raise InvalidInput("a base rate applies to every line: no category or sku", _field("kind"))
    if kind is RuleKind.CATEGORY_RATE and (not rule.category or rule.sku):
        raise InvalidInput("a category rate needs a category (and no sku)", _field("category"))
    if kind is RuleKind.PRODUCT_RATE and not rule.sku:
        raise InvalidInput("a product rate needs a sku", _field("sku"))


def _check_rate(kind: RuleKind, rate: Decimal | None) -> None:
    if rate is None:
        raise InvalidInput(f"a {kind} rule needs a rate", _field("rate"))
    if kind is RuleKind.MULTIPLIER:
        if not 1 < rate <= MAX_MULTIPLIER:
            raise InvalidInput(
                f"a multiplier must be above 1 and at most {MAX_MULTIPLIER}", _field("rate")
            )
    elif not 0 <= rate <= MAX_RATE:
        raise InvalidInput(f"a rate is 0 to {MAX_RATE} points per 1.00", _field("rate"))


def _check_schedule(schedule: Schedule) -> None:
    if schedule.starts_at and schedule.ends_at and schedule.ends_at <= schedule.starts_at:
        raise InvalidInput("endsAt must be after startsAt", _field("endsAt"))
    if any(not 1 <= day <= 7 for day in schedule.days_of_week):
        raise InvalidInput("daysOfWeek are 1 (Monday) to 7 (Sunday)", _field("daysOfWeek"))
    if schedule.from_time is not None and schedule.from_time == schedule.until_time:
        raise InvalidInput("fromTime and untilTime cannot be the same", _field("untilTime"))
    check_timezone(schedule.timezone)


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown time zone {name[:60]!r}; use an IANA name such as Europe/London",
            _field("timezone"),
        ) from None
    return name


def check_reward(reward: Reward) -> Reward:
    if reward.points_cost <= 0:
        raise InvalidInput("pointsCost must be positive", _field("pointsCost"))
    if reward.starts_at and reward.ends_at and reward.ends_at <= reward.starts_at:
        raise InvalidInput("endsAt must be after startsAt", _field("endsAt"))
    if reward.stock is not None and not 0 <= reward.stock <= MAX_STOCK:
        raise InvalidInput(f"stock must be between 0 and {MAX_STOCK}", _field("stock"))
    _check_reward_kind(reward)
    return reward


def _check_reward_kind(reward: Reward) -> None:
    kind = reward.kind
    for name, value, used_by in (
        ("discountAmount", reward.discount_amount, RewardKind.FIXED_DISCOUNT),
        ("discountPercent", reward.discount_percent, RewardKind.PERCENT_DISCOUNT),
        ("sku", reward.sku, RewardKind.FREE_ITEM),
    ):
        if value is not None and kind is not used_by:
            raise InvalidInput(f"a {kind} reward has no {name}", _field(name))
    if kind is RewardKind.FIXED_DISCOUNT and not (reward.discount_amount or 0) > 0:
        raise InvalidInput(
            "a fixed discount needs a discountAmount above 0", _field("discountAmount")
        )
    if kind is RewardKind.PERCENT_DISCOUNT:
        percent = reward.discount_percent
        if percent is None or not 0 < percent <= 100:
            raise InvalidInput(
                "a percent discount needs a discountPercent above 0 and at most 100",
                _field("discountPercent"),
            )
    if kind is RewardKind.FREE_ITEM and not reward.sku:
        raise InvalidInput("a free item reward needs the item's sku", _field("sku"))


@dataclass(frozen=True)
class SaveEarningRule:
    """Create a rule (no `rule_id`) or a new version of one; the rule's id and version are
    filled in by the use case."""

    rule_id: str | None
    draft: EarningRule
    saved_at: datetime
    actor: Actor | None

    def version_of(self, rule_id: str, version: int) -> EarningRule:
        return replace(self.draft, id=rule_id, version=version)


@dataclass(frozen=True)
class RuleVersion:
    """One saved version of a rule: whether it is the rule's current one, when and by whom
    it was saved."""

    rule: EarningRule
    is_current: bool
    saved_at: datetime
    saved_by: Actor | None


@dataclass(frozen=True)
class SaveReward:
    reward: Reward
    creating: bool
    saved_at: datetime


@dataclass(frozen=True)
class Terms:
    """The programme's settings that the use cases apply."""

    base_rate: Decimal = Decimal(1)
    point_value: Decimal = Decimal("0.01")
    earn_on_points_paid: bool = False
    refund_returns_redeemed_points: bool = True
    expiry: ExpiryPolicy = field(default_factory=ExpiryPolicy)
