"""The programme's fields: earning rules and rewards, read by tills and managed by admins."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.mutations import mutation
from api.permissions import GUARDED
from api.programme.rewards import Reward, RewardInput, RewardPayload
from api.programme.rules import EarningRule, EarningRuleInput, EarningRulePayload
from domain.programme import SaveEarningRule, SaveReward
from domain.use_cases import programme
from persistence.queries import programme as queries


@strawberry.type
class ProgrammeQueries:
    @strawberry.field(
        description="The earning rules in force or waiting for their start (current versions); "
        "includeRetired adds those switched off or ended.",
        permission_classes=GUARDED,
    )
    async def earning_rules(self, info: Info, include_retired: bool = False) -> list[EarningRule]:
        async with info.context.database.reading() as session:
            views = await queries.earning_rules(
                session, include_retired=include_retired, at=info.context.now()
            )
        return [EarningRule.of(view) for view in views]

    @strawberry.field(
        description="Every version of one rule, newest first.", permission_classes=GUARDED
    )
    async def earning_rule_versions(self, info: Info, id: strawberry.ID) -> list[EarningRule]:
        async with info.context.database.reading() as session:
            versions = await queries.earning_rule_versions(session, str(id))
        return [EarningRule.of(version) for version in versions]

    @strawberry.field(
        description="The rewards catalog. activeOnly: only those redeemable now (in the "
        "given store, when storeId is given).",
        permission_classes=GUARDED,
    )
    async def rewards(
        self, info: Info, active_only: bool | None = True, store_id: strawberry.ID | None = None
    ) -> list[Reward]:
        now = info.context.now()
        async with info.context.database.reading() as session:
            found = await queries.rewards(
                session,
                active_only=active_only is not False,
                at=now,
                store_id=None if store_id is None else str(store_id),
            )
        return [Reward.of(reward, now) for reward in found]


@strawberry.type
class ProgrammeMutations:
    @mutation("Add an earning rule (version 1). Admin only; in force at once.")
    async def create_earning_rule(self, info: Info, input: EarningRuleInput) -> EarningRulePayload:
        return await _save_rule(info, None, input)

    @mutation(
        "Replace a rule by its next version (earlier versions stay, as do the earns that used "
        "them). Set active: false to retire it. Admin only."
    )
    async def update_earning_rule(
        self, info: Info, id: strawberry.ID, input: EarningRuleInput
    ) -> EarningRulePayload:
        return await _save_rule(info, str(id), input)

    @mutation("Add a reward to the catalog. Admin only.")
    async def create_reward(self, info: Info, input: RewardInput) -> RewardPayload:
        return await _save_reward(info, input, creating=True)

    @mutation("Change a reward (by its id). Admin only.")
    async def update_reward(self, info: Info, input: RewardInput) -> RewardPayload:
        return await _save_reward(info, input, creating=False)


async def _save_rule(
    info: Info, rule_id: str | None, input: EarningRuleInput
) -> EarningRulePayload:
    context = info.context
    command = SaveEarningRule(rule_id, input.to_rule(), context.now(), context.actor())
    saved = await programme.save_earning_rule(context.uow(), command)
    return EarningRulePayload(earning_rule=EarningRule.of(saved))


async def _save_reward(info: Info, input: RewardInput, *, creating: bool) -> RewardPayload:
    context = info.context
    command = SaveReward(input.to_reward(), creating, context.now())
    reward = await programme.save_reward(context.uow(), command)
    return RewardPayload(reward=Reward.of(reward, context.now()))
