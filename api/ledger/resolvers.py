"""The books' fields: the trial balance, reconcile them, close a period, reopen one."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from api.context import Info
from api.ledger.types import (
    ClosePeriodInput,
    PeriodPayload,
    Reconciliation,
    ReopenPeriodInput,
    TrialBalance,
)
from api.mutations import mutation
from api.permissions import GUARDED
from api.services import reconciliation_bounds, settled_back
from domain.trial_balance import trial_balance
from domain.use_cases import periods
from persistence.queries.reconciliation import reconciliation
from persistence.queries.trial_balance import account_sums_at
from persistence.valuation import valuation


@strawberry.type
class LedgerQueries:
    @strawberry.field(
        permission_classes=GUARDED,
        description="The books checked now: every entry balanced, cached balances equal to "
        "the journal, lots equal to balances, liability equal to the customers' balances. "
        "Admins only.",
    )
    async def reconciliation(self, info: Info) -> Reconciliation:
        bounds = reconciliation_bounds(info.context.settings)
        async with info.context.database.reading() as session:
            books = await reconciliation(session, info.context.now(), bounds)
        return Reconciliation.of(books)

    @strawberry.field(
        permission_classes=GUARDED,
        description="Every ledger account's balance at a moment (now when omitted), in points "
        "and valued in money, counting each movement at the time it happened. Admins only.",
    )
    async def trial_balance(self, info: Info, at: datetime | None = None) -> TrialBalance:
        context = info.context
        now = context.now()
        moment = now if at is None else at.astimezone(UTC)
        back = settled_back(context.settings)
        async with context.database.reading() as session:
            sums = await account_sums_at(session, moment, now, back)
            books = await valuation(session, context.terms().point_value)
        return TrialBalance.of(trial_balance(moment, sums, books.point_value_at(moment)))


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
