"""The rewards catalog: what points can buy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.errors import RewardInactive


@dataclass(frozen=True)
class Reward:
    id: str
    name: str
    points_cost: int
    active: bool

    def points_to_redeem(self) -> int:
        if not self.active:
            raise RewardInactive(f"reward {self.id} is not active", ("input", "rewardId"))
        return self.points_cost


@dataclass(frozen=True)
class RewardsOutlook:
    """What a balance can pay for, and the cheapest reward still out of reach."""

    in_reach: tuple[Reward, ...]
    next_reward: Reward | None
    points_to_next: int | None


def rewards_outlook(balance: int, active_rewards: Sequence[Reward]) -> RewardsOutlook:
    by_cost = sorted(active_rewards, key=lambda reward: (reward.points_cost, reward.id))
    in_reach = tuple(reward for reward in by_cost if reward.points_cost <= balance)
    out_of_reach = [reward for reward in by_cost if reward.points_cost > balance]
    if not out_of_reach:
        return RewardsOutlook(in_reach, None, None)
    cheapest = out_of_reach[0]
    return RewardsOutlook(in_reach, cheapest, cheapest.points_cost - balance)
