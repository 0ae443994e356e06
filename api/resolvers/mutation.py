"""Mutations: each one use case in one unit of work; failures come back as userErrors.

Every field is guarded by the declared policy (api/permissions.py); those
that name a store also check it is in the caller's scope. Who acted is taken
from the token, never from the input.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol, TypeVar

import strawberry

from api.context import Info
from api.permissions import GUARDED, require_store
from api.resolvers.programme import ProgrammeMutations
from api.types.bulk_awards import BulkAward, BulkAwardInput, ReverseBulkAwardInput
from api.types.customers import Customer
from api.types.displays import (
    ClearDisplayInput,
    DisplayPayload,
    ShowOnDisplayInput,
    TerminalDisplay,
)
from api.types.inputs import (
    AdjustPointsInput,
    CreateStoreInput,
    EarnPointsInput,
    EnrollCustomerInput,
    RedeemPointsInput,
)
from api.types.payloads import (
    BulkAwardPayload,
    EnrollCustomerPayload,
    PointsPayload,
    Store,
    StorePayload,
)
from api.types.sales import CheckoutInput, CheckoutPayload, RefundPayload, RefundSaleInput
from domain import bulk_award_services, display_services, sale_services, services
from domain.bulk_awards import Segment
from domain.errors import DomainError, Forbidden
from domain.ledger import Actor
from domain.ports import UnitOfWork
from persistence import queries
from persistence.queries import CustomerView, TransactionView


@strawberry.type
class Mutation(ProgrammeMutations):
    @strawberry.mutation(
        description='Register a store; its id is the chain\'s own store code (e.g. "S001"). '
        "Admin only.",
        permission_classes=GUARDED,
    )
    async def create_store(self, info: Info, input: CreateStoreInput) -> StorePayload:
        try:
            store = await services.create_store(info.context.uow(), input.to_command())
        except DomainError as error:
            return StorePayload.failed(error)
        return StorePayload(store=Store.of(store))

    @strawberry.mutation(permission_classes=GUARDED)
    async def enroll_customer(
        self, info: Info, input: EnrollCustomerInput
    ) -> EnrollCustomerPayload:
        context = info.context
        try:
            command = input.to_command(context.now(), context.settings.default_phone_region)
            customer = await services.enroll_customer(context.uow(), command)
        except DomainError as error:
            return EnrollCustomerPayload.failed(error)
        return EnrollCustomerPayload(customer=Customer.of(CustomerView.of(customer)))

    @strawberry.mutation(
        description="Award points for a sale, computed by the earning rules from its lines.",
        permission_classes=GUARDED,
    )
    async def earn_points(self, info: Info, input: EarnPointsInput) -> PointsPayload:
        return await _move_points(info, input, sale_services.earn_points)

    @strawberry.mutation(
        description="Spend points, on a catalog reward or as a number of points.",
        permission_classes=GUARDED,
    )
    async def redeem_points(self, info: Info, input: RedeemPointsInput) -> PointsPayload:
        return await _move_points(info, input, services.redeem_points)

    @strawberry.mutation(
        description="A completed sale, in one call: spend a reward or points on it and earn "
        "on it, in one transaction under one idempotency key.",
        permission_classes=GUARDED,
    )
    async def checkout(self, info: Info, input: CheckoutInput) -> CheckoutPayload:
        try:
            result = await _in_store(info, input, sale_services.checkout)
        except DomainError as error:
            return CheckoutPayload.failed(error)
        return CheckoutPayload.succeeded(result)

    @strawberry.mutation(
        description="Refund a sale in full or by lines: takes back the points the returned "
        "part earned and gives back points spent on it, as one REVERSAL.",
        permission_classes=GUARDED,
    )
    async def refund_sale(self, info: Info, input: RefundSaleInput) -> RefundPayload:
        try:
            result = await _in_store(info, input, sale_services.refund_sale)
        except DomainError as error:
            return RefundPayload.failed(error)
        return RefundPayload.succeeded(result)

    @strawberry.mutation(
        description="Add or remove points by hand, with a reason. Managers, in their stores.",
        permission_classes=GUARDED,
    )
    async def adjust_points(self, info: Info, input: AdjustPointsInput) -> PointsPayload:
        return await _move_points(
            info, input, lambda uow, command, _terms: services.adjust_points(uow, command)
        )

    @strawberry.mutation(
        description="Show a customer and what their cart will earn on a terminal's display.",
        permission_classes=GUARDED,
    )
    async def show_on_display(self, info: Info, input: ShowOnDisplayInput) -> DisplayPayload:
        context = info.context
        try:
            require_store(info, str(input.store_id))
            command = input.to_command(context.now())
            await display_services.show_on_display(context.uow(), command, context.terms())
        except DomainError as error:
            return DisplayPayload.failed(error)
        return await _shown(info, command.terminal_id)

    @strawberry.mutation(
        description="Clear a terminal's display (the customer has left).",
        permission_classes=GUARDED,
    )
    async def clear_display(self, info: Info, input: ClearDisplayInput) -> DisplayPayload:
        context = info.context
        try:
            require_store(info, str(input.store_id))
            command = input.to_command(context.now())
            await display_services.clear_display(context.uow(), command)
        except DomainError as error:
            return DisplayPayload.failed(error)
        return await _shown(info, command.terminal_id)

    @strawberry.mutation(
        description="Award the same points to many customers at once (promotions).",
        permission_classes=GUARDED,
    )
    async def bulk_award_points(self, info: Info, input: BulkAwardInput) -> BulkAwardPayload:
        context = info.context
        try:
            command = input.to_command(context.now(), context.actor())
            _require_segment_scope(info, command.segment)
            job = await bulk_award_services.bulk_award_points(context.uow(), command)
        except DomainError as error:
            return BulkAwardPayload.failed(error)
        context.services.worker.wake()
        return BulkAwardPayload(bulk_award=BulkAward.of(job))

    @strawberry.mutation(
        description="Take a completed bulk award back from everyone it reached, as a job: "
        "a REVERSAL entry each, pointing at their award. Points already spent become owed.",
        permission_classes=GUARDED,
    )
    async def reverse_bulk_award(
        self, info: Info, input: ReverseBulkAwardInput
    ) -> BulkAwardPayload:
        context = info.context
        try:
            command = input.to_command(context.now(), context.actor())
            job = await bulk_award_services.reverse_bulk_award(context.uow(), command)
        except DomainError as error:
            return BulkAwardPayload.failed(error)
        context.services.worker.wake()
        return BulkAwardPayload(bulk_award=BulkAward.of(job))


def _require_segment_scope(info: Info, segment: Segment | None) -> None:
    """A manager's segment is within its stores: it names them, all in scope."""
    principal = info.context.principal
    if segment is None or principal is None or principal.stores is None:
        return
    if not segment.store_ids:
        raise Forbidden(
            "a segment beyond your stores needs an admin: name your storeIds",
            ("input", "segment", "storeIds"),
        )
    outside = sorted(store for store in segment.store_ids if not principal.may_act_in(store))
    if outside:
        raise Forbidden(
            f"this token does not cover store(s) {', '.join(outside)}",
            ("input", "segment", "storeIds"),
        )


CommandT_co = TypeVar("CommandT_co", covariant=True)


class StoreInput(Protocol[CommandT_co]):
    """An input naming the store it acts in, that becomes a command of the caller."""

    @property
    def store_id(self) -> strawberry.ID: ...

    def to_command(self, now: datetime, actor: Actor) -> CommandT_co: ...


ResultT = TypeVar("ResultT")


async def _in_store(
    info: Info,
    input: StoreInput[CommandT_co],
    use_case: Callable[[UnitOfWork, CommandT_co, services.Terms], Awaitable[ResultT]],
) -> ResultT:
    """A sale's use case in a store of the caller's scope, as the caller, on the programme's
    terms."""
    context = info.context
    require_store(info, str(input.store_id))
    command = input.to_command(context.now(), context.actor())
    return await use_case(context.uow(), command, context.terms())


async def _move_points(
    info: Info,
    input: StoreInput[CommandT_co],
    use_case: Callable[[UnitOfWork, CommandT_co, services.Terms], Awaitable[services.PointsResult]],
) -> PointsPayload:
    """Earn, redeem or adjust in a store of the caller's scope, as the caller."""
    try:
        result = await _in_store(info, input, use_case)
    except DomainError as error:
        return PointsPayload.failed(error)
    return PointsPayload.succeeded(TransactionView.of(result.posted), result.redemption)


async def _shown(info: Info, terminal_id: str) -> DisplayPayload:
    async with info.context.database.reading() as session:
        view = await queries.display_view(session, terminal_id)
    return DisplayPayload(display=None if view is None else TerminalDisplay.of(view))
