"""The books' fields: reconcile them, close a period, reopen one."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.ledger.types import ClosePeriodInput, PeriodPayload, Reconciliation, ReopenPeriodInput
from api.mutations import mutation
from api.permissions import GUARDED
from domain.use_cases import periods
from persistence.queries.reconciliation import reconciliation


@strawberry.type
class LedgerQueries:
    @strawberry.field(
        permission_classes=GUARDED,
        description="The books checked now: every entry balanced, cached balances equal to "
        "the journal, lots equal to balances, liability equal to the customers' balances. "
        "Admins only.",
    )
    async def reconciliation(self, info: Info) -> Reconciliation:
        bound = info.context.settings.outbox_lag_bound_seconds
        async with info.context.database.reading() as session:
            books = await reconciliation(session, info.context.now(), bound)
        return Reconciliation.of(books)


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
