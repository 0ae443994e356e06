"""The books as finance sees them: closing and reopening periods."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.mutations import UserError
from api.scalars import DecimalText, amount
from domain.ledger import Actor
from domain.periods import ChangePeriod, PeriodAction
from domain.reconciliation import Check
from domain.reconciliation import Reconciliation as DomainReconciliation
from domain.trial_balance import TrialBalance as DomainTrialBalance


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


@strawberry.type
class ReconciliationCheck:
    name: str
    holds: bool
    difference: int = strawberry.field(
        description="How far apart the two sides are, in points, as an absolute value "
        "(0 when it holds)."
    )
    detail: str | None

    @classmethod
    def of(cls, check: Check) -> ReconciliationCheck:
        return cls(
            name=check.name, holds=check.holds, difference=check.difference, detail=check.detail
        )


@strawberry.type
class Reconciliation:
    balanced: bool = strawberry.field(description="True when every check holds.")
    checks: list[ReconciliationCheck]

    @classmethod
    def of(cls, books: DomainReconciliation) -> Reconciliation:
        checks = [ReconciliationCheck.of(check) for check in books.checks]
        return cls(balanced=books.balanced, checks=checks)


@strawberry.type
class AccountBalance:
    account: str = strawberry.field(
        description="The journal account, e.g. customer:<id>, programme:points-issued, "
        "programme:promotions:<campaign>."
    )
    points: int
    value: DecimalText = strawberry.field(
        description="points valued at the point value in force at the moment asked; signs as "
        "in the journal (customer accounts positive)."
    )


@strawberry.type
class TrialBalance:
    at: datetime
    accounts: list[AccountBalance] = strawberry.field(
        description="The programme accounts one by one; the customers' accounts summed as "
        "`customer:*`, and points owed as `owed:*`."
    )
    total_points: int = strawberry.field(
        description="Sum over every account: 0 for books that balance."
    )

    @classmethod
    def of(cls, balance: DomainTrialBalance) -> TrialBalance:
        accounts = [
            AccountBalance(account=a.account, points=a.points, value=amount(a.value))
            for a in balance.accounts
        ]
        return cls(at=balance.at, accounts=accounts, total_points=balance.total_points)
