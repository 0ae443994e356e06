"""The points feature's fields: earn, redeem, adjust, checkout and refund; the preview and
breakdown of a sale; the balance and store feeds. Each a thin call of its use case.

Who acted is taken from the token, never from the input; a store named by the
input must be in the caller's scope.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

import strawberry

from api.context import Info
from api.mutations import mutation
from api.permissions import GUARDED, require_scope
from api.points.breakdown import PointsBreakdown
from api.points.feeds import balance_feed, store_feed
from api.points.inputs import (
    AdjustPointsInput,
    CheckoutInput,
    EarnPointsInput,
    PreviewEarnInput,
    RedeemPointsInput,
    RefundSaleInput,
    entry_id,
)
from api.points.types import CheckoutPayload, EarnPreview, PointsPayload, RefundPayload
from api.received import Received
from domain.ledger import Actor
from domain.use_cases import points

CommandT_co = TypeVar("CommandT_co", covariant=True)


class StoreInput(Protocol[CommandT_co]):
    """An input naming the store it acts in, that becomes a command of the caller."""

    @property
    def store_id(self) -> strawberry.ID: ...

    def to_command(self, received: Received, actor: Actor) -> CommandT_co: ...


def asked_in_store(info: Info, input: StoreInput[CommandT_co]) -> CommandT_co:
    """The caller's command, in a store of the caller's scope."""
    require_scope(info, str(input.store_id))
    return input.to_command(info.context.received(), info.context.actor())


@strawberry.type
class PointsMutations:
    @mutation("Award points for a sale, computed by the earning rules from its lines.")
    async def earn_points(self, info: Info, input: EarnPointsInput) -> PointsPayload:
        command, uow = asked_in_store(info, input), info.context.uow()
        moved = await points.earn_points(uow, command, info.context.terms())
        return PointsPayload.of(moved, uow.customers.as_saved(command.customer_id))

    @mutation("Spend points, on a catalog reward or as a number of points.")
    async def redeem_points(self, info: Info, input: RedeemPointsInput) -> PointsPayload:
        command, uow = asked_in_store(info, input), info.context.uow()
        moved = await points.redeem_points(uow, command, info.context.terms())
        return PointsPayload.of(moved, uow.customers.as_saved(command.customer_id))

    @mutation(
        "A completed sale, in one call: spend a reward or points on it and earn on it, in one "
        "transaction under one idempotency key."
    )
    async def checkout(self, info: Info, input: CheckoutInput) -> CheckoutPayload:
        command, uow = asked_in_store(info, input), info.context.uow()
        checked_out = await points.checkout(uow, command, info.context.terms())
        return CheckoutPayload.of(checked_out, uow.customers.as_saved(command.customer_id))

    @mutation(
        "Refund a sale in full or by lines: takes back the points the returned part earned "
        "and gives back points spent on it, as one REVERSAL."
    )
    async def refund_sale(self, info: Info, input: RefundSaleInput) -> RefundPayload:
        command, uow = asked_in_store(info, input), info.context.uow()
        refunded = await points.refund_sale(uow, command, info.context.terms())
        customer_id = refunded.reversal.entry.customer_id
        return RefundPayload.of(refunded, uow.customers.as_saved(customer_id))

    @mutation("Add or remove points by hand, with a reason. Managers, in their stores.")
    async def adjust_points(self, info: Info, input: AdjustPointsInput) -> PointsPayload:
        command, uow = asked_in_store(info, input), info.context.uow()
        moved = await points.adjust_points(uow, command)
        return PointsPayload.of(moved, uow.customers.as_saved(command.customer_id))


@strawberry.type
class PointsQueries:
    @strawberry.field(
        description="Points a sale would earn and the rewards it would bring within reach. "
        "Changes nothing.",
        permission_classes=GUARDED,
    )
    async def preview_earn(self, info: Info, input: PreviewEarnInput) -> EarnPreview:
        require_scope(info, str(input.store_id))
        now = info.context.now()
        uow = info.context.uow(read_only=True)
        preview = await points.preview_earn(uow, input.to_query(now), info.context.terms())
        return EarnPreview.of(preview, now)

    @strawberry.field(
        description='Why a sale earned what it did ("why did I get 37 points?"): give its '
        "EARN transaction, or a REVERSAL of it.",
        permission_classes=GUARDED,
    )
    async def sale_breakdown(
        self, info: Info, transaction_id: strawberry.ID
    ) -> PointsBreakdown | None:
        entry = entry_id(str(transaction_id), ("transactionId",))
        sale = await info.context.loaders.breakdowns.load(entry)
        return None if sale is None else PointsBreakdown.of(sale)


@strawberry.type
class PointsSubscriptions:
    balance_changed = strawberry.subscription(
        resolver=balance_feed,
        description="The customer's current balance at once, then every change, "
        "in balanceVersion order.",
        permission_classes=GUARDED,
    )
    store_transactions = strawberry.subscription(
        resolver=store_feed,
        description="Every points transaction in one store as it commits, for dashboards. "
        "Cashiers, displays and managers: stores in their scope; admins: any.",
        permission_classes=GUARDED,
    )
