"""The hub: per-topic fan-out where a slow subscriber never holds up the others."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from domain.events import BalanceChanged
from domain.ledger import (
    POINTS_ISSUED,
    JournalEntry,
    Movement,
    PostedEntry,
    TransactionKind,
    transfer,
)
from subscriptions.channels import customer_topic, store_topic
from subscriptions.hub import Delivery, Hub, Resync, Subscription

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def change(customer: str, version: int, store: str | None = "S1") -> BalanceChanged:
    movement = Movement(store, None, None, f"k{version}", NOW)
    lines = transfer(customer, 10, POINTS_ISSUED)
    entry = JournalEntry(TransactionKind.EARN, customer, 10, version * 10, version, movement, lines)
    return BalanceChanged(PostedEntry(version, entry))


async def drained(subscription: Subscription) -> list[Delivery]:
    items = []
    while True:
        try:
            items.append(await asyncio.wait_for(subscription.next(), 0.01))
        except TimeoutError:
            return items


async def test_a_slow_subscriber_is_resynced_and_never_delays_the_others() -> None:
    hub = Hub(queue_size=3)
    async with (
        hub.subscription(customer_topic("c1")) as slow,
        hub.subscription(customer_topic("c1")) as fast,
    ):
        received = []
        for version in range(1, 11):
            hub.deliver([change("c1", version)])
            delivered = await fast.next()
            assert isinstance(delivered, BalanceChanged)
            received.append(delivered)
        backlog = await drained(slow)

    assert [change.posted.entry.balance_version for change in received] == list(range(1, 11))
    assert len(backlog) <= 3
    assert isinstance(backlog[0], Resync)


async def test_a_change_reaches_its_customer_and_its_store_and_no_one_else() -> None:
    hub = Hub()
    async with (
        hub.subscription(customer_topic("c1")) as customer,
        hub.subscription(store_topic("S1")) as store,
        hub.subscription(customer_topic("c2")) as other_customer,
        hub.subscription(store_topic("S2")) as other_store,
    ):
        hub.deliver([change("c1", 1)])
        seen = [await drained(s) for s in (customer, store, other_customer, other_store)]

    assert [len(items) for items in seen] == [1, 1, 0, 0]


async def test_unsubscribing_forgets_the_topic() -> None:
    hub = Hub()
    async with hub.subscription(customer_topic("c1")):
        assert hub.subscriber_count() == 1
    assert hub.subscriber_count() == 0
