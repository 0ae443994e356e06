"""Setting the programme up in tests: earning rules and rewards through the use cases."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from domain.programme import SaveEarningRule, SaveReward
from domain.rewards import Reward
from domain.rules import EarningRule, RuleKind
from domain.use_cases import programme
from persistence.database import Database
from tests.use_cases import uow


def category_rate(category: str, rate: str) -> EarningRule:
    return EarningRule(
        "", 0, f"{category} rate", RuleKind.CATEGORY_RATE, Decimal(rate), category=category
    )


async def add_rule(
    database: Database,
    rule: EarningRule,
    rule_id: str | None = None,
    saved_at: datetime | None = None,
) -> EarningRule:
    """Version 1 of a new rule, or (with `rule_id`) the next version of that rule, saved now
    unless said (a sale earns by the versions saved by the time it happened)."""
    command = SaveEarningRule(rule_id, rule, saved_at or datetime.now(UTC), None)
    return (await programme.save_earning_rule(uow(database), command)).rule


async def add_reward(database: Database, reward: Reward) -> Reward:
    command = SaveReward(reward, creating=True, saved_at=datetime.now(UTC))
    return await programme.save_reward(uow(database), command)
