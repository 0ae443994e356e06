"""The valuation's fields: the point value, the GL account map and the expected breakage
rate, set by admins from a moment on, every change kept with who made it and when."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from api.context import Info
from api.mutations import UserError, mutation
from api.permissions import GUARDED
from api.scalars import DecimalText, amount
from domain.breakage import checked_breakage_rate
from domain.ledger import Actor
from domain.money import parse_decimal
from domain.use_cases.valuation import change_valuation
from domain.valuation import (
    DEFAULT_CHART,
    GlAccount,
    GlRole,
    ValuationChange,
    checked_account,
    checked_point_value,
)
from persistence.valuation import changes, valuation

strawberry.enum(GlRole, name="GlRole", description="What a general-ledger account is for.")


@strawberry.type
class GlAccountView:
    role: GlRole
    code: str
    name: str

    @classmethod
    def of(cls, account: GlAccount) -> GlAccountView:
        return cls(role=account.role, code=account.code, name=account.name)


@strawberry.type
class ValuationChangeView:
    effective_from: datetime
    point_value: DecimalText | None
    account: GlAccountView | None
    breakage_rate: DecimalText | None
    changed_by: str = strawberry.field(description="The staff id of the admin who made it.")
    at: datetime = strawberry.field(description="When the change was made.")

    @classmethod
    def of(cls, change: ValuationChange) -> ValuationChangeView:
        value = None if change.point_value is None else amount(change.point_value)
        account = None if change.account is None else GlAccountView.of(change.account)
        rate = None if change.breakage_rate is None else amount(change.breakage_rate)
        return cls(
            effective_from=change.effective_from,
            point_value=value,
            account=account,
            breakage_rate=rate,
            changed_by=change.actor.staff_id,
            at=change.at,
        )


@strawberry.type
class ValuationView:
    at: datetime
    point_value: DecimalText = strawberry.field(description="The point value in force now.")
    accounts: list[GlAccountView] = strawberry.field(description="The account map in force now.")
    breakage_rate: DecimalText = strawberry.field(
        description="The expected breakage rate in force now: the share of points expected "
        "never to be redeemed, recognised in proportion to redemptions; 0 (off) until set."
    )
    changes: list[ValuationChangeView] = strawberry.field(description="Every change, in order.")


@strawberry.type
class ValuationPayload:
    valuation: ValuationView | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SetPointValueInput:
    value: DecimalText = strawberry.field(description='The value of one point, e.g. "0.01".')
    effective_from: datetime | None = strawberry.field(
        default=None, description="From when it holds (now when omitted)."
    )


@strawberry.input
class SetBreakageRateInput:
    rate: DecimalText = strawberry.field(
        description='The share of points expected never to be redeemed, e.g. "0.20"; from 0 '
        "(off) to 0.95, at most four places."
    )
    effective_from: datetime | None = strawberry.field(
        default=None, description="From when it holds (now when omitted)."
    )


@strawberry.input
class MapGlAccountInput:
    role: GlRole
    code: str = strawberry.field(description="The account code in the accounting system.")
    name: str
    effective_from: datetime | None = strawberry.field(
        default=None, description="From when it holds (now when omitted)."
    )


async def valuation_view(info: Info) -> ValuationView:
    now = info.context.now()
    async with info.context.database.reading() as session:
        books = await valuation(session, info.context.terms().point_value)
        made = await changes(session)
    return ValuationView(
        at=now,
        point_value=amount(books.point_value_at(now)),
        accounts=[GlAccountView.of(books.account_at(role, now)) for role in DEFAULT_CHART],
        breakage_rate=amount(books.breakage_rate_at(now)),
        changes=[ValuationChangeView.of(change) for change in made],
    )


def _from(effective_from: datetime | None, now: datetime) -> datetime:
    return now if effective_from is None else effective_from.astimezone(UTC)


def _who(info: Info) -> tuple[Actor, datetime]:
    return info.context.actor(), info.context.now()


async def _changed(info: Info, change: ValuationChange) -> ValuationPayload:
    """Record a change of the valuation and answer with the valuation as it now stands."""
    await change_valuation(info.context.uow(), change)
    return ValuationPayload(valuation=await valuation_view(info))


@strawberry.type
class ValuationQueries:
    @strawberry.field(
        permission_classes=GUARDED,
        description="The point value and the GL account map in force now, and every change "
        "to them. Admins only.",
    )
    async def valuation(self, info: Info) -> ValuationView:
        return await valuation_view(info)


@strawberry.type
class ValuationMutations:
    @mutation(
        "Set the point value (the standalone selling price of one point) from a moment on; "
        "not inside a closed period. Admins only."
    )
    async def set_point_value(self, info: Info, input: SetPointValueInput) -> ValuationPayload:
        actor, now = _who(info)
        value = checked_point_value(parse_decimal(input.value, ("input", "value"), what="value"))
        change = ValuationChange(_from(input.effective_from, now), actor, now, point_value=value)
        return await _changed(info, change)

    @mutation(
        "Book a GL role to an account code and name from a moment on; not inside a closed "
        "period. Admins only."
    )
    async def map_gl_account(self, info: Info, input: MapGlAccountInput) -> ValuationPayload:
        actor, now = _who(info)
        account = checked_account(input.role, input.code, input.name)
        change = ValuationChange(_from(input.effective_from, now), actor, now, account=account)
        return await _changed(info, change)

    @mutation(
        "Set the expected breakage rate from a moment on: from then each redemption also "
        "recognises breakage revenue of its value x rate / (1 - rate) against the liability's "
        "contra account, and an expiry releases to breakage revenue only what was not "
        "recognised in advance (IFRS 15 B46). 0 turns it off. Not inside a closed period. "
        "Admins only."
    )
    async def set_breakage_rate(self, info: Info, input: SetBreakageRateInput) -> ValuationPayload:
        actor, now = _who(info)
        rate = checked_breakage_rate(parse_decimal(input.rate, ("input", "rate"), what="rate"))
        change = ValuationChange(_from(input.effective_from, now), actor, now, breakage_rate=rate)
        return await _changed(info, change)
