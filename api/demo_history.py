"""A few months of history for the demo, so the dashboard shows something real at once.

Everything goes through the same use cases a till would call, dated back (occurred_at):
customers enrolled over the months, sales and checkouts (some with rewards, some timed by
the till), redemptions, refunds, sales of non-members, a bulk award with a 10% holdout,
and one expiry run. A fixed random seed makes every demo the same.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.campaigns import BulkAwardPoints
from domain.customers import EnrollCustomer, Identifiers
from domain.errors import DomainError
from domain.expiry import ExpiryKind, ExpiryPolicy
from domain.guests import RecordGuestSale
from domain.ledger import Actor
from domain.points import Checkout, EarnPoints, RedeemPoints, RefundSale
from domain.programme import Terms
from domain.sales import SaleLine
from domain.use_cases import campaigns, customers, guests, points
from persistence.database import Database
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from subscriptions.broker import InProcessBroker
from subscriptions.hub import Hub
from workers.campaigns import BulkAwardWorker
from workers.expiry import ExpiryWorker

HISTORY_CUSTOMERS = 200
BASKETS = (
    (
        SaleLine("MILK-1L", "grocery", 2, Decimal("1.20")),
        SaleLine("BREAD", "grocery", 1, Decimal("2.40")),
    ),
    (SaleLine("BEANS-1KG", "grocery", 1, Decimal("14.00")),),
    (
        SaleLine("LIPSTICK", "beauty", 1, Decimal("18.50")),
        SaleLine("SOAP", "beauty", 3, Decimal("3.10")),
    ),
    (SaleLine("HEADPHONES", "electronics", 1, Decimal("79.00")),),
    (
        SaleLine("APPLES", "grocery", 4, Decimal("0.60")),
        SaleLine("SHAMPOO", "beauty", 1, Decimal("6.90")),
    ),
    (
        SaleLine("CHARGER", "electronics", 1, Decimal("24.99")),
        SaleLine("MILK-1L", "grocery", 1, Decimal("1.20")),
    ),
)
REWARDS = ("COFFEE", "TOTE", "TEN-OFF")
STAFF = {"S001": ("ana", "ben"), "S002": ("cleo",), "S003": ("dev", "eli")}


@dataclass
class History:
    """The demo's history as it is written, day by day."""

    database: Database
    terms: Terms
    now: datetime
    days: int
    rng: random.Random

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.database, InProcessBroker(Hub()))

    def day(self, index: int) -> datetime:
        start = (self.now - timedelta(days=self.days)).replace(
            hour=8, minute=0, second=0, microsecond=0
        )
        return start + timedelta(days=index, minutes=self.rng.randrange(12 * 60))

    async def customer(self, index: int) -> str:
        enrolled = self.day(self.rng.randrange(max(1, self.days - 5)))
        store = self.rng.choice(tuple(STAFF))
        command = EnrollCustomer(
            name=f"Shopper {index:03d}",
            identifiers=Identifiers(email=f"shopper{index:03d}@example.com"),
            enrolled_at=enrolled,
            enrolled_by_staff=self.rng.choice(STAFF[store]),
            enrolled_store_id=store,
        )
        return (await customers.enroll_customer(self.uow(), command)).id

    async def sale(self, customer_id: str, when: datetime, key: str, day: int) -> int | None:
        store = self.rng.choice(tuple(STAFF))
        actor = Actor(self.rng.choice(STAFF[store]), "CASHIER", "T1")
        basket = self.rng.choice(BASKETS)
        common: dict[str, Any] = {
            "customer_id": customer_id,
            "idempotency_key": key,
            "store_id": store,
            "terminal_id": "T1",
            "lines": basket,
            "occurred_at": when,
            "till_time": when,
            "actor": actor,
        }
        try:
            if self.rng.random() < 0.5:
                moved = await points.earn_points(self.uow(), EarnPoints(**common), self.terms)
                return moved.posted.id
            # The tills get quicker over the months: the dashboard's reduction shows it.
            seconds = self.rng.lognormvariate(3.8 - day / self.days * 0.5, 0.4)
            started = when - timedelta(seconds=seconds)
            reward = self.rng.choice(REWARDS) if self.rng.random() < 0.3 else None
            checkout = Checkout(**common, reward_id=reward, started_at=started)
            return (await points.checkout(self.uow(), checkout, self.terms)).earned.id
        except DomainError:
            # Not enough points for the reward: the till would ring it up without.
            return None

    async def redeem(self, customer_id: str, when: datetime, key: str) -> None:
        command = RedeemPoints(
            customer_id=customer_id,
            idempotency_key=key,
            store_id="S001",
            occurred_at=when,
            till_time=when,
            points=self.rng.choice((20, 50, 100)),
            reward_id=None,
            actor=Actor("ana", "CASHIER", "T1"),
        )
        try:
            await points.redeem_points(self.uow(), command, self.terms)
        except DomainError:
            return

    async def refund(self, entry_id: int, when: datetime, key: str) -> None:
        command = RefundSale(
            transaction_id=entry_id,
            idempotency_key=key,
            store_id="S002",
            terminal_id="T9",
            quantities=(),
            reason="changed their mind",
            occurred_at=when,
            actor=Actor("cleo", "MANAGER", None),
        )
        await points.refund_sale(self.uow(), command, self.terms)

    async def guest_sale(self, when: datetime, key: str) -> None:
        command = RecordGuestSale(
            idempotency_key=key,
            store_id=self.rng.choice(tuple(STAFF)),
            lines=self.rng.choice(BASKETS),
            occurred_at=when,
            recorded_at=when,
            till_time=when,
        )
        await guests.record_guest_sale(self.uow(), command)


async def seed_history(
    database: Database, terms: Terms, now: datetime, days: int, progress: Callable[[int], None]
) -> None:
    """`days` of a chain's life, ending now; `progress` hears of each day written."""
    history = History(database, terms, now, days, random.Random(2026))  # noqa: S311 (demo data)
    customers_count = min(HISTORY_CUSTOMERS, 20 + days * 2)
    shoppers = [await history.customer(index) for index in range(customers_count)]
    regulars = shoppers[: customers_count // 3]
    sales: list[int] = []
    for day in range(days):
        busy = 1.4 if history.day(day).weekday() >= 5 else 1.0
        for serial in range(int(history.rng.randint(14, 22) * busy)):
            shopper = history.rng.choice(regulars if history.rng.random() < 0.6 else shoppers)
            sold = await history.sale(shopper, history.day(day), f"demo-{day}-{serial}", day)
            if sold is not None:
                sales.append(sold)
            if history.rng.random() < 0.07:
                await history.redeem(shopper, history.day(day), f"demo-r-{day}-{serial}")
            if history.rng.random() < 0.08:
                await history.guest_sale(history.day(day), f"demo-g-{day}-{serial}")
        if day % 9 == 4 and sales:
            await history.refund(sales[-3], history.day(day), f"demo-refund-{day}")
        if day == max(0, days - 35):
            await _campaign(history, shoppers, history.day(day))
        progress(day + 1)
    await _expiry(history, history.day(days - 1))


async def _campaign(history: History, shoppers: list[str], when: datetime) -> None:
    """A win-back award to everyone, 10% held out as a control group."""
    command = BulkAwardPoints(
        idempotency_key="demo-winback",
        customer_ids=tuple(shoppers),
        points=150,
        reason="Autumn win-back",
        campaign_id="AUTUMN-WINBACK",
        requested_at=when,
        holdout_percent=10,
    )
    await campaigns.bulk_award_points(history.uow(), command)
    worker = BulkAwardWorker(
        history.database, InProcessBroker(Hub()), lambda: when, batch_size=500, poll_seconds=1
    )
    await worker.drain()


async def _expiry(history: History, when: datetime) -> None:
    """Points earned more than two months before the last day expire then."""
    worker = ExpiryWorker(
        history.database,
        InProcessBroker(Hub()),
        lambda: when,
        policy=ExpiryPolicy(ExpiryKind.EARNED, 2),
        batch_size=500,
        interval_seconds=3600,
    )
    await worker.expire_due()
