"""Streams of points transactions: one customer's balance, one store's transactions.

Each subscribes before it reads what it starts from, so no change falls between
the two. A change arrives as the posted entry the committing process had; after
a gap or an overflow (a `Resync`), the stream catches up from the journal,
which is the source of truth.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncGenerator

import strawberry

from api.context import Info
from api.customers.loaders import CustomersLoader
from api.fanout.seats import follow
from api.points.transactions import BalanceChange, PointsTransaction
from domain.errors import CustomerNotFound, Forbidden
from domain.events import BalanceChanged
from domain.ledger import PostedEntry
from persistence.database import Database
from persistence.queries import points as queries
from subscriptions.channels import customer_topic, store_topic
from subscriptions.hub import Delivery

CATCH_UP_LIMIT = 500
REMEMBERED_ENTRIES = 2000


async def balance_feed(
    info: Info, customer_id: strawberry.ID
) -> AsyncGenerator[BalanceChange, None]:
    """The customer's current balance at once, then every change, in balanceVersion order."""
    feed = BalanceFeed(info.context.database, info.context.loaders.customers, customer_id)
    async for change in follow(info, feed, lambda: _snapshot(info, customer_id)):
        yield change


class BalanceFeed:
    """One customer's balance changes, each at its balanceVersion."""

    __slots__ = ("_customer_id", "_customers", "_database")

    def __init__(self, database: Database, customers: CustomersLoader, customer_id: str) -> None:
        self._database = database
        # The subscribing connection's: its subscriptions' first reads go in one statement.
        self._customers = customers
        self._customer_id = customer_id

    @property
    def topic(self) -> str:
        return customer_topic(self._customer_id)

    def position(self, change: BalanceChange) -> int:
        return change.balance_version

    async def position_now(self) -> int:
        customer = await self._customers.load(self._customer_id)
        if customer is None:
            raise _not_found(self._customer_id)
        return customer.account.balance_version

    async def after(self, delivery: Delivery, position: int) -> list[BalanceChange]:
        """The next change as delivered, or, after a gap or an overflow, all the journal has."""
        if isinstance(delivery, BalanceChanged):
            version = delivery.posted.entry.balance_version
            if version <= position:
                return []
            if version == position + 1:
                return [BalanceChange.of(delivery.posted)]
        async with self._database.reading() as session:
            found = await queries.transactions_after_version(session, self._customer_id, position)
        return [BalanceChange.of(posted) for posted in found]


async def _snapshot(info: Info, customer_id: str) -> BalanceChange:
    customer = await info.context.loaders.customers.load(customer_id)
    if customer is None:
        raise _not_found(customer_id)
    account = customer.account
    return BalanceChange(
        customer_id=strawberry.ID(customer.id),
        balance=account.balance,
        balance_version=account.balance_version,
        delta=0,
        transaction=None,
        occurred_at=info.context.now(),
    )


def _not_found(customer_id: str) -> CustomerNotFound:
    return CustomerNotFound(f"no customer {customer_id}", ("customerId",))


class SentEntries:
    """The ids of the entries a feed sent lately, to drop repeats."""

    def __init__(self) -> None:
        self._ids: OrderedDict[int, None] = OrderedDict()

    def first_time(self, entry_id: int) -> bool:
        if entry_id in self._ids:
            return False
        self._ids[entry_id] = None
        if len(self._ids) > REMEMBERED_ENTRIES:
            self._ids.popitem(last=False)
        return True


async def store_feed(
    info: Info, store_id: strawberry.ID
) -> AsyncGenerator[PointsTransaction, None]:
    """Every points transaction of one store, for dashboards and back offices: best effort
    in order of arrival; an entry seen twice (relayed from the outbox too) is sent once."""
    principal = info.context.principal
    if principal is None or not principal.may_act_in(store_id):
        raise Forbidden(f"this token does not cover store {store_id!r}", ("storeId",))
    async with info.context.services.hub.subscription(store_topic(store_id)) as subscription:
        async with info.context.database.reading() as session:
            last_id = await queries.latest_entry_id(session, store_id)
        sent = SentEntries()
        while True:
            for posted in await _arrived(info, store_id, await subscription.next(), last_id):
                if sent.first_time(posted.id):
                    last_id = max(last_id, posted.id)
                    yield PointsTransaction.of(posted)


async def _arrived(
    info: Info, store_id: str, delivery: Delivery, last_id: int
) -> list[PostedEntry]:
    if isinstance(delivery, BalanceChanged):
        return [delivery.posted]
    async with info.context.database.reading() as session:
        return await queries.store_transactions_after(session, store_id, last_id, CATCH_UP_LIMIT)
