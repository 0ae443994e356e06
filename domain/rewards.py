"""The rewards catalog: what points can buy, and what the till must apply for it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from domain.errors import InvalidInput, RewardInactive
from domain.money import CENT
from domain.sales import SaleLine, sale_total

REWARD_ID = ("input", "rewardId")


class RewardKind(StrEnum):
    FIXED_DISCOUNT = "FIXED_DISCOUNT"
    PERCENT_DISCOUNT = "PERCENT_DISCOUNT"
    FREE_ITEM = "FREE_ITEM"
    VOUCHER = "VOUCHER"


class RedemptionKind(StrEnum):
    """A catalog reward's kind, or POINTS_OFF: points spent as money off at the programme's
    point value."""

    FIXED_DISCOUNT = "FIXED_DISCOUNT"
    PERCENT_DISCOUNT = "PERCENT_DISCOUNT"
    FREE_ITEM = "FREE_ITEM"
    VOUCHER = "VOUCHER"
    POINTS_OFF = "POINTS_OFF"


@dataclass(frozen=True)
class Reward:
    id: str
    name: str
    points_cost: int
    active: bool = True
    kind: RewardKind = RewardKind.VOUCHER
    discount_amount: Decimal | None = None
    discount_percent: Decimal | None = None
    sku: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    store_ids: frozenset[str] = frozenset()
    stock: int | None = None

    def available_at(self, at: datetime, store_id: str | None = None) -> bool:
        """Enabled, in its window, in stock, and (when a store is named) offered there."""
        return (
            self.active
            and (self.starts_at is None or at >= self.starts_at)
            and (self.ends_at is None or at < self.ends_at)
            and (self.stock is None or self.stock > 0)
            and (store_id is None or not self.store_ids or store_id in self.store_ids)
        )

    def points_to_redeem(self, at: datetime, store_id: str) -> int:
        if not self.available_at(at, store_id):
            raise RewardInactive(
                f"reward {self.id} {self._why_unavailable(at, store_id)}", REWARD_ID
            )
        return self.points_cost

    def _why_unavailable(self, at: datetime, store_id: str) -> str:
        if not self.active:
            return "is not active"
        if self.stock is not None and self.stock <= 0:
            return "is out of stock"
        if self.store_ids and store_id not in self.store_ids:
            return f"is not offered in store {store_id}"
        return "is outside its active window"


@dataclass(frozen=True)
class Redemption:
    """What the till applies for points spent: money off, a free item or a voucher code."""

    kind: RedemptionKind
    reward_id: str | None = None
    discount_amount: Decimal | None = None
    discount_percent: Decimal | None = None
    sku: str | None = None
    voucher_code: str | None = None


def redemption_of(reward: Reward, voucher_code: str) -> Redemption:
    """What a reward redeemed on its own (not against a sale) gives the till."""
    return Redemption(
        kind=RedemptionKind(reward.kind.value),
        reward_id=reward.id,
        discount_amount=reward.discount_amount,
        discount_percent=reward.discount_percent,
        sku=reward.sku,
        voucher_code=voucher_code if reward.kind is RewardKind.VOUCHER else None,
    )


def redemption_against_sale(
    reward: Reward, lines: Sequence[SaleLine], voucher_code: str
) -> Redemption:
    """A reward spent on a sale, with the money it takes off that sale (never more than the
    sale's total; a percentage is rounded down to the cent)."""
    redemption = redemption_of(reward, voucher_code)
    total = sale_total(lines)
    if reward.kind is RewardKind.FIXED_DISCOUNT:
        off = min(reward.discount_amount or Decimal(0), total)
    elif reward.kind is RewardKind.PERCENT_DISCOUNT:
        percent = reward.discount_percent or Decimal(0)
        off = (total * percent / 100).quantize(CENT, rounding=ROUND_DOWN)
    elif reward.kind is RewardKind.FREE_ITEM:
        off = _free_item_price(reward, lines)
    else:
        # A voucher is honoured elsewhere: it takes nothing off this sale.
        return replace(redemption, discount_amount=None, discount_percent=None)
    return Redemption(redemption.kind, reward.id, off, reward.discount_percent, reward.sku, None)


def _free_item_price(reward: Reward, lines: Sequence[SaleLine]) -> Decimal:
    prices = [line.unit_price for line in lines if line.sku == reward.sku]
    if not prices:
        raise InvalidInput(
            f"reward {reward.id} is a free {reward.sku}: the sale has no line of it", REWARD_ID
        )
    return max(prices)


def points_off(points: int, point_value: Decimal) -> Redemption:
    return Redemption(RedemptionKind.POINTS_OFF, discount_amount=points * point_value)


@dataclass(frozen=True)
class RewardsOutlook:
    """What a balance can pay for, and the cheapest reward still out of reach."""

    in_reach: tuple[Reward, ...]
    next_reward: Reward | None
    points_to_next: int | None


def rewards_outlook(balance: int, available: Sequence[Reward]) -> RewardsOutlook:
    by_cost = sorted(available, key=lambda reward: (reward.points_cost, reward.id))
    in_reach = tuple(reward for reward in by_cost if reward.points_cost <= balance)
    out_of_reach = [reward for reward in by_cost if reward.points_cost > balance]
    if not out_of_reach:
        return RewardsOutlook(in_reach, None, None)
    cheapest = out_of_reach[0]
    return RewardsOutlook(in_reach, cheapest, cheapest.points_cost - balance)
