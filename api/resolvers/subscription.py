"""Subscriptions: a snapshot first, then every committed change in balanceVersion order."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from api.context import Info
from api.errors import ClientError
from api.permissions import GUARDED
from api.resolvers.displays import terminal_display
from api.resolvers.store_feed import store_feed
from api.types.displays import TerminalDisplay
from api.types.payloads import BalanceChange
from api.types.transactions import PointsTransaction, view_of
from domain.errors import ErrorCode
from persistence import queries
from persistence.queries import TransactionView
from subscriptions.channels import customer_topic
from subscriptions.hub import Delivery
from subscriptions.messages import BalanceMessage


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The customer's current balance at once, then every change, "
        "in balanceVersion order.",
        permission_classes=GUARDED,
    )
    async def balance_changed(
        self, info: Info, customer_id: strawberry.ID
    ) -> AsyncGenerator[BalanceChange, None]:
        # Subscribe before reading the snapshot, so no change can fall between the two.
        topic = customer_topic(str(customer_id))
        async with info.context.services.hub.subscription(topic) as subscription:
            snapshot = await _snapshot(info, str(customer_id))
            yield snapshot
            last_version = snapshot.balance_version
            while True:
                delivery = await subscription.next()
                changes = await _changes_after(info, str(customer_id), delivery, last_version)
                for change in changes:
                    yield BalanceChange.of(change)
                    last_version = change.balance_version

    @strawberry.subscription(
        description="Every points transaction in one store as it commits, for dashboards. "
        "Cashiers, displays and managers: stores in their scope; admins: any.",
        permission_classes=GUARDED,
    )
    async def store_transactions(
        self, info: Info, store_id: strawberry.ID
    ) -> AsyncGenerator[PointsTransaction, None]:
        async for transaction in store_feed(info, str(store_id)):
            yield transaction

    @strawberry.subscription(
        description="A terminal's customer-facing display: the customer served (name masked), "
        "their balance, what the cart will earn, and each earn or redeem there as it happens. "
        "Display tokens: their own terminal only.",
        permission_classes=GUARDED,
    )
    async def terminal_display(
        self, info: Info, terminal_id: strawberry.ID
    ) -> AsyncGenerator[TerminalDisplay, None]:
        async for shown in terminal_display(info, str(terminal_id)):
            yield shown


async def _snapshot(info: Info, customer_id: str) -> BalanceChange:
    async with info.context.database.reading() as session:
        found = await queries.customers_by_ids(session, [customer_id])
    customer = found.get(customer_id)
    if customer is None:
        raise ClientError(
            ErrorCode.CUSTOMER_NOT_FOUND, f"no customer {customer_id}", ("customerId",)
        )
    return BalanceChange(
        customer_id=strawberry.ID(customer.id),
        balance=customer.balance,
        balance_version=customer.balance_version,
        delta=0,
        transaction=None,
        occurred_at=info.context.now(),
    )


async def _changes_after(
    info: Info, customer_id: str, delivery: Delivery, last_version: int
) -> list[TransactionView]:
    """The next change as delivered, or, after a gap or an overflow, all the journal has."""
    if isinstance(delivery, BalanceMessage):
        if delivery.balance_version <= last_version:
            return []
        if delivery.balance_version == last_version + 1:
            return [view_of(delivery)]
    async with info.context.database.reading() as session:
        return await queries.transactions_after_version(session, customer_id, last_version)
