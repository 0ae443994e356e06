"""The books' fields: close a period, reopen one."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.ledger.types import ClosePeriodInput, PeriodPayload, ReopenPeriodInput
from api.mutations import mutation
from domain.use_cases import periods


@strawberry.type
class LedgerMutations:
    @mutation(
        "Close the books before a moment: from then on nothing may be recorded with a time "
        "before `until` (INVALID_INPUT saying the period is closed). Closing is cumulative and "
        "never moves backwards except by reopenPeriod. Admins only."
    )
    async def close_period(self, info: Info, input: ClosePeriodInput) -> PeriodPayload:
        command = input.to_command(info.context.actor(), info.context.now())
        change = await periods.change_period(info.context.uow(), command)
        return PeriodPayload(closed_until=change.closed_until)

    @mutation("Reopen the books from a moment on (an audited correction). Admins only.")
    async def reopen_period(self, info: Info, input: ReopenPeriodInput) -> PeriodPayload:
        command = input.to_command(info.context.actor(), info.context.now())
        change = await periods.change_period(info.context.uow(), command)
        return PeriodPayload(closed_until=change.closed_until)
