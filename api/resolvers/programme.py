"""The programme: earning rules and rewards (administrators), sale breakdowns."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import ClientError
from api.permissions import GUARDED
from api.types.breakdown import PointsBreakdown
from api.types.programme import (
    EarningRule,
    EarningRuleInput,
    EarningRulePayload,
    Reward,
    RewardInput,
    RewardPayload,
)
from api.types.sales import entry_id
from domain import programme_services
from domain.errors import DomainError
from domain.programme import SaveEarningRule, SaveReward
from persistence import programme_queries


@strawberry.type
class ProgrammeQueries:
    @strawberry.field(
        description="The earning rules in force or waiting for their start (current versions); "
        "includeRetired adds those switched off or ended.",
        permission_classes=GUARDED,
    )
    async def earning_rules(self, info: Info, include_retired: bool = False) -> list[EarningRule]:
        async with info.context.database.reading() as session:
            views = await programme_queries.earning_rules(
                session, include_retired=include_retired, at=info.context.now()
            )
        return [EarningRule.of(view) for view in views]

    @strawberry.field(
        description="Every version of one rule, newest first.", permission_classes=GUARDED
    )
    async def earning_rule_versions(self, info: Info, id: strawberry.ID) -> list[EarningRule]:
        async with info.context.database.reading() as session:
            views = await programme_queries.earning_rule_versions(session, str(id))
        return [EarningRule.of(view) for view in views]

    @strawberry.field(
        description='Why a sale earned what it did ("why did I get 37 points?"): give its '
        "EARN transaction, or a REVERSAL of it.",
        permission_classes=GUARDED,
    )
    async def sale_breakdown(
        self, info: Info, transaction_id: strawberry.ID
    ) -> PointsBreakdown | None:
        try:
            entry = entry_id(str(transaction_id), ("transactionId",))
        except DomainError as error:
            raise ClientError.of(error) from None
        async with info.context.database.reading() as session:
            sale = await programme_queries.sale_breakdown(session, entry)
        return None if sale is None else PointsBreakdown.of(sale)


@strawberry.type
class ProgrammeMutations:
    @strawberry.mutation(
        description="Add an earning rule (version 1). Admin only; in force at once.",
        permission_classes=GUARDED,
    )
    async def create_earning_rule(self, info: Info, input: EarningRuleInput) -> EarningRulePayload:
        return await _save_rule(info, None, input)

    @strawberry.mutation(
        description="Replace a rule by its next version (earlier versions stay, as do the "
        "earns that used them). Set active: false to retire it. Admin only.",
        permission_classes=GUARDED,
    )
    async def update_earning_rule(
        self, info: Info, id: strawberry.ID, input: EarningRuleInput
    ) -> EarningRulePayload:
        return await _save_rule(info, str(id), input)

    @strawberry.mutation(
        description="Add a reward to the catalog. Admin only.", permission_classes=GUARDED
    )
    async def create_reward(self, info: Info, input: RewardInput) -> RewardPayload:
        return await _save_reward(info, input, creating=True)

    @strawberry.mutation(
        description="Change a reward (by its id). Admin only.", permission_classes=GUARDED
    )
    async def update_reward(self, info: Info, input: RewardInput) -> RewardPayload:
        return await _save_reward(info, input, creating=False)


async def _save_rule(
    info: Info, rule_id: str | None, input: EarningRuleInput
) -> EarningRulePayload:
    context = info.context
    try:
        command = SaveEarningRule(rule_id, input.to_rule(), context.now(), context.actor())
        rule = await programme_services.save_earning_rule(context.uow(), command)
    except DomainError as error:
        return EarningRulePayload.failed(error)
    async with context.database.reading() as session:
        versions = await programme_queries.earning_rule_versions(session, rule.id)
    return EarningRulePayload(earning_rule=EarningRule.of(versions[0]))


async def _save_reward(info: Info, input: RewardInput, *, creating: bool) -> RewardPayload:
    context = info.context
    try:
        command = SaveReward(input.to_reward(), creating, context.now())
        reward = await programme_services.save_reward(context.uow(), command)
    except DomainError as error:
        return RewardPayload.failed(error)
    return RewardPayload(reward=Reward.of(reward, context.now()))
