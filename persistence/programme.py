"""The programme as administrators set it: earning rules (every version) and rewards."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import InvalidInput
from domain.ledger import Actor
from domain.rewards import Reward, RewardKind
from domain.rules import EarningRule, RuleKind, Schedule, clock_text
from persistence.base import table_of
from persistence.models import EarnContributionRow, EarningRuleRow, RewardRow
from persistence.records import actor_columns, columns_of, joined, record_of, split

if TYPE_CHECKING:  # it reads rules with rule_of, defined here
    from persistence.programme_cache import ProgrammeInTransaction


def _time(text: str | None) -> time | None:
    return None if text is None else time.fromisoformat(text)


def rule_of(row: EarningRuleRow) -> EarningRule:
    days = frozenset(int(day) for day in split(row.days_of_week))
    schedule = record_of(
        Schedule,
        row,
        days_of_week=days,
        from_time=_time(row.from_time),
        until_time=_time(row.until_time),
    )
    return record_of(
        EarningRule, row, kind=RuleKind(row.kind), store_ids=split(row.store_ids), schedule=schedule
    )


def _rule_values(rule: EarningRule, saved_at: datetime, actor: Actor | None) -> dict[str, Any]:
    schedule = rule.schedule
    return {
        **columns_of(
            rule, left_out=("schedule",), kind=rule.kind.value, store_ids=joined(rule.store_ids)
        ),
        **columns_of(
            schedule,
            days_of_week=joined(schedule.days_of_week),
            from_time=clock_text(schedule.from_time),
            until_time=clock_text(schedule.until_time),
        ),
        "is_current": True,
        "created_at": saved_at,
        **actor_columns("created_by", actor),
    }


class SqlAlchemyRuleRepository:
    def __init__(self, session: AsyncSession, programme: ProgrammeInTransaction) -> None:
        self.session = session
        self._programme = programme

    async def current(self) -> Sequence[EarningRule]:
        rows = await self.session.execute(
            select(EarningRuleRow).where(EarningRuleRow.is_current).order_by(EarningRuleRow.id)
        )
        return [rule_of(row) for row in rows.scalars()]

    async def as_of(self, at: datetime) -> Sequence[EarningRule]:
        """The version of every rule that was current at `at`: a sale dated back by an
        offline till earns by the rules of its time. From the process's cache of the
        programme, checked in this transaction."""
        return (await self._programme.programme()).rules_as_of(at)

    async def lock_current(self, rule_id: str) -> EarningRule | None:
        query = (
            select(EarningRuleRow)
            .where(EarningRuleRow.id == rule_id, EarningRuleRow.is_current)
            .with_for_update()
        )
        row = (await self.session.execute(query)).scalar_one_or_none()
        return None if row is None else rule_of(row)

    async def add_version(self, rule: EarningRule, saved_at: datetime, actor: Actor | None) -> None:
        await self.session.execute(
            update(EarningRuleRow)
            .where(EarningRuleRow.id == rule.id, EarningRuleRow.is_current)
            .values(is_current=False)
        )
        await self.session.execute(
            insert(table_of(EarningRuleRow)).values(_rule_values(rule, saved_at, actor))
        )

    async def used_today(
        self, customer_id: str, days: Mapping[str, tuple[datetime, datetime]]
    ) -> Mapping[str, Decimal]:
        within_day = or_(
            *(
                and_(
                    EarnContributionRow.rule_id == rule_id,
                    EarnContributionRow.occurred_at >= start,
                    EarnContributionRow.occurred_at < end,
                )
                for rule_id, (start, end) in days.items()
            )
        )
        rows = await self.session.execute(
            select(EarnContributionRow.rule_id, EarnContributionRow.points).where(
                EarnContributionRow.customer_id == customer_id, within_day
            )
        )
        # Summed here, not in SQL: SQLite keeps these exact values as text.
        used: dict[str, Decimal] = {}
        for rule_id, points in rows:
            used[str(rule_id)] = used.get(str(rule_id), Decimal(0)) + points
        return used


def reward_of(row: RewardRow) -> Reward:
    return record_of(Reward, row, kind=RewardKind(row.kind), store_ids=split(row.store_ids))


def _reward_columns(reward: Reward) -> dict[str, Any]:
    return columns_of(
        reward, left_out=("id",), kind=reward.kind.value, store_ids=joined(reward.store_ids)
    )


class SqlAlchemyRewardRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, reward_id: str) -> Reward | None:
        row = await self.session.get(RewardRow, reward_id)
        return None if row is None else reward_of(row)

    async def all(self) -> Sequence[Reward]:
        rows = await self.session.execute(select(RewardRow).order_by(RewardRow.id))
        return [reward_of(row) for row in rows.scalars()]

    async def add(self, reward: Reward, saved_at: datetime) -> None:
        if await self.session.get(RewardRow, reward.id) is not None:
            raise InvalidInput(f"reward {reward.id!r} exists already", ("input", "id"))
        self.session.add(
            RewardRow(
                id=reward.id, created_at=saved_at, updated_at=saved_at, **_reward_columns(reward)
            )
        )
        try:
            await self.session.flush()
        except IntegrityError:
            raise InvalidInput(f"reward {reward.id!r} exists already", ("input", "id")) from None

    async def save(self, reward: Reward, saved_at: datetime) -> None:
        await self.session.execute(
            update(RewardRow)
            .where(RewardRow.id == reward.id)
            .values(updated_at=saved_at, **_reward_columns(reward))
        )

    async def take_one(self, reward_id: str) -> bool:
        # Conditional, so two tills taking the last one cannot both have it.
        taken = await self.session.execute(
            update(RewardRow)
            .where(RewardRow.id == reward_id, RewardRow.stock > 0)
            .values(stock=RewardRow.stock - 1)
            .returning(RewardRow.id)
        )
        return taken.first() is not None
