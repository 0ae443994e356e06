"""The programme as administrators and tills read it: rules and their versions, rewards."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.programme import RuleVersion
from domain.rewards import Reward
from persistence.models import EarningRuleRow, RewardRow
from persistence.programme import reward_of, rule_of
from persistence.records import actor_of


def _rule_view(row: EarningRuleRow) -> RuleVersion:
    return RuleVersion(rule_of(row), row.is_current, row.created_at, actor_of(row, "created_by"))


async def earning_rules(
    session: AsyncSession, *, include_retired: bool, at: datetime
) -> list[RuleVersion]:
    """Current versions: those in force or waiting for their start, or (include_retired)
    also those switched off or ended."""
    query = select(EarningRuleRow).where(EarningRuleRow.is_current)
    if not include_retired:
        ended = EarningRuleRow.ends_at.is_not(None) & (EarningRuleRow.ends_at <= at)
        query = query.where(EarningRuleRow.active, ~ended)
    rows = await session.execute(query.order_by(EarningRuleRow.kind, EarningRuleRow.name))
    return [_rule_view(row) for row in rows.scalars()]


async def earning_rule_versions(session: AsyncSession, rule_id: str) -> list[RuleVersion]:
    query = (
        select(EarningRuleRow)
        .where(EarningRuleRow.id == rule_id)
        .order_by(EarningRuleRow.version.desc())
    )
    return [_rule_view(row) for row in (await session.execute(query)).scalars()]


async def rewards(
    session: AsyncSession, *, active_only: bool, at: datetime, store_id: str | None = None
) -> list[Reward]:
    query = select(RewardRow).order_by(RewardRow.points_cost, RewardRow.id)
    found = [reward_of(row) for row in (await session.execute(query)).scalars()]
    if not active_only:
        return found
    return [reward for reward in found if reward.available_at(at, store_id)]
