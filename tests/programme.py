"""Setting the programme up in tests: earning rules and rewards through the use cases."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from domain import programme_services
from domain.programme import SaveEarningRule, SaveReward
from domain.rewards import Reward
from domain.rules import EarningRule, RuleKind
from persistence.database import Database
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from subscriptions.broker import InProcessBroker
from subscriptions.hub import Hub


def category_rate(category: str, rate: str) -> EarningRule:
    return EarningRule(
        "", 0, f"{category} rate", RuleKind.CATEGORY_RATE, Decimal(rate), category=category
    )


async def add_rule(
    database: Database, rule: EarningRule, rule_id: str | None = None
) -> EarningRule:
    """Version 1 of a new rule, or (with `rule_id`) the next version of that rule."""
    uow = SqlAlchemyUnitOfWork(database, InProcessBroker(Hub()))
    command = SaveEarningRule(rule_id, rule, datetime.now(UTC), None)
    return await programme_services.save_earning_rule(uow, command)


async def add_reward(database: Database, reward: Reward) -> Reward:
    uow = SqlAlchemyUnitOfWork(database, InProcessBroker(Hub()))
    command = SaveReward(reward, creating=True, saved_at=datetime.now(UTC))
    return await programme_services.save_reward(uow, command)
