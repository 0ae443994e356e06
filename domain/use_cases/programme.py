"""Use cases of the programme: administrators' earning rules and rewards catalog."""

from __future__ import annotations

import uuid

from domain.errors import InvalidInput, RewardNotFound
from domain.ports import UnitOfWork
from domain.programme import RuleVersion, SaveEarningRule, SaveReward, check_reward, check_rule
from domain.rewards import Reward


async def save_earning_rule(uow: UnitOfWork, cmd: SaveEarningRule) -> RuleVersion:
    """A new rule at version 1, or the next version of an existing one; earlier versions
    stay as they were, so every earn keeps pointing at the version that produced it."""
    async with uow:
        if cmd.rule_id is None:
            rule = check_rule(cmd.version_of(str(uuid.uuid4()), 1))
        else:
            current = await uow.rules.lock_current(cmd.rule_id)
            if current is None:
                raise InvalidInput(f"no earning rule {cmd.rule_id}", ("id",))
            rule = check_rule(cmd.version_of(current.id, current.version + 1))
        await uow.rules.add_version(rule, cmd.saved_at, cmd.actor)
        await uow.commit()
    return RuleVersion(rule, is_current=True, saved_at=cmd.saved_at, saved_by=cmd.actor)


async def save_reward(uow: UnitOfWork, cmd: SaveReward) -> Reward:
    reward = check_reward(cmd.reward)
    async with uow:
        if cmd.creating:
            await uow.rewards.add(reward, cmd.saved_at)
        elif await uow.rewards.get(reward.id) is None:
            raise RewardNotFound(f"no reward {reward.id}", ("input", "id"))
        else:
            await uow.rewards.save(reward, cmd.saved_at)
        await uow.commit()
    return reward


async def find_reward(uow: UnitOfWork, reward_id: str) -> Reward:
    reward = await uow.rewards.get(reward_id)
    if reward is None:
        raise RewardNotFound(f"no reward {reward_id}", ("input", "rewardId"))
    return reward
