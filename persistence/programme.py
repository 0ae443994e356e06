"""Earning rules, rewards and redemptions: rows to domain values and back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time
from decimal import Decimal

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import InvalidInput
from domain.ledger import Actor
from domain.rewards import Redemption, RedemptionKind, Reward, RewardKind
from domain.rules import EarningRule, RuleKind, Schedule
from persistence.models import EarnContributionRow, EarningRuleRow, RedemptionRow, RewardRow
from persistence.repositories import actor_columns


def _joined(values: frozenset[str] | frozenset[int]) -> str | None:
    return ",".join(sorted(str(value) for value in values)) or None


def _split(text: str | None) -> frozenset[str]:
    return frozenset(text.split(",")) if text else frozenset()


def _clock(value: time | None) -> str | None:
    return None if value is None else value.strftime("%H:%M")


def rule_of(row: EarningRuleRow) -> EarningRule:
    schedule = Schedule(
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        days_of_week=frozenset(int(day) for day in _split(row.days_of_week)),
        from_time=None if row.from_time is None else time.fromisoformat(row.from_time),
        until_time=None if row.until_time is None else time.fromisoformat(row.until_time),
        timezone=row.timezone,
    )
    return EarningRule(
        id=row.id,
        version=row.version,
        name=row.name,
        kind=RuleKind(row.kind),
        rate=row.rate,
        bonus_points=row.bonus_points,
        category=row.category,
        sku=row.sku,
        store_ids=_split(row.store_ids),
        schedule=schedule,
        min_spend=row.min_spend,
        max_points_per_sale=row.max_points_per_sale,
        max_points_per_customer_per_day=row.max_points_per_customer_per_day,
        active=row.active,
    )


def rule_row(rule: EarningRule, saved_at: datetime, actor: Actor | None) -> EarningRuleRow:
    schedule = rule.schedule
    return EarningRuleRow(
        id=rule.id,
        version=rule.version,
        is_current=True,
        name=rule.name,
        kind=rule.kind.value,
        rate=rule.rate,
        bonus_points=rule.bonus_points,
        category=rule.category,
        sku=rule.sku,
        store_ids=_joined(rule.store_ids),
        starts_at=schedule.starts_at,
        ends_at=schedule.ends_at,
        days_of_week=_joined(schedule.days_of_week),
        from_time=_clock(schedule.from_time),
        until_time=_clock(schedule.until_time),
        timezone=schedule.timezone,
        min_spend=rule.min_spend,
        max_points_per_sale=rule.max_points_per_sale,
        max_points_per_customer_per_day=rule.max_points_per_customer_per_day,
        active=rule.active,
        created_at=saved_at,
        **actor_columns("created_by", actor),
    )


class SqlAlchemyRuleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def current(self) -> Sequence[EarningRule]:
        rows = await self.session.execute(
            select(EarningRuleRow).where(EarningRuleRow.is_current).order_by(EarningRuleRow.id)
        )
        return [rule_of(row) for row in rows.scalars()]

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
        self.session.add(rule_row(rule, saved_at, actor))
        await self.session.flush()

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
    return Reward(
        id=row.id,
        name=row.name,
        points_cost=row.points_cost,
        active=row.active,
        kind=RewardKind(row.kind),
        discount_amount=row.discount_amount,
        discount_percent=row.discount_percent,
        sku=row.sku,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        store_ids=_split(row.store_ids),
        stock=row.stock,
    )


def _reward_columns(reward: Reward) -> dict[str, object]:
    return {
        "name": reward.name,
        "points_cost": reward.points_cost,
        "active": reward.active,
        "kind": reward.kind.value,
        "discount_amount": reward.discount_amount,
        "discount_percent": reward.discount_percent,
        "sku": reward.sku,
        "starts_at": reward.starts_at,
        "ends_at": reward.ends_at,
        "store_ids": _joined(reward.store_ids),
        "stock": reward.stock,
    }


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


class SqlAlchemyRedemptionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entry_id: int, redemption: Redemption) -> None:
        self.session.add(
            RedemptionRow(
                entry_id=entry_id,
                kind=redemption.kind.value,
                reward_id=redemption.reward_id,
                discount_amount=redemption.discount_amount,
                discount_percent=redemption.discount_percent,
                sku=redemption.sku,
                voucher_code=redemption.voucher_code,
            )
        )

    async def get(self, entry_id: int) -> Redemption | None:
        row = await self.session.get(RedemptionRow, entry_id)
        return None if row is None else redemption_of_row(row)


def redemption_of_row(row: RedemptionRow) -> Redemption:
    return Redemption(
        kind=RedemptionKind(row.kind),
        reward_id=row.reward_id,
        discount_amount=row.discount_amount,
        discount_percent=row.discount_percent,
        sku=row.sku,
        voucher_code=row.voucher_code,
    )
