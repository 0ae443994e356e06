"""The books as finance sees them: closing and reopening periods."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.mutations import UserError
from domain.ledger import Actor
from domain.periods import ChangePeriod, PeriodAction


@strawberry.input
class ClosePeriodInput:
    until: datetime = strawberry.field(
        description="Exclusive: movements at or after this moment stay open."
    )
    reason: str

    def to_command(self, actor: Actor, now: datetime) -> ChangePeriod:
        return ChangePeriod(PeriodAction.CLOSE, self.until, self.reason, actor, now)


@strawberry.input
class ReopenPeriodInput:
    from_: datetime = strawberry.field(
        name="from", description="The books become open again from this moment on."
    )
    reason: str

    def to_command(self, actor: Actor, now: datetime) -> ChangePeriod:
        return ChangePeriod(PeriodAction.REOPEN, self.from_, self.reason, actor, now)


@strawberry.type
class PeriodPayload:
    closed_until: datetime | None = strawberry.field(
        default=None, description="Everything before this moment is closed; null when nothing is."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)
