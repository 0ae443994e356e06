"""What the dashboard test seeds, through the API as tills do: sales over three days in
two stores, a reward, points spent, a guest sale, a campaign's bulk award."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

from tests.api.test_checkout import CHECKOUT
from tests.integration.test_processes import post
from tests.operations import CREATE_STORE, EARN, ENROLL, line

ZONE = "UTC"  # a zone the rollups keep (LOYALTY_ANALYTICS_TIME_ZONES' default)
AWARDED = 50
CREATE_REWARD = """
mutation($input: RewardInput!) { createReward(input: $input) { userErrors { code message } } }"""
GUEST_SALE = """
mutation($input: RecordGuestSaleInput!) {
  recordGuestSale(input: $input) { userErrors { code message } }
}"""
BULK_AWARD = """
mutation($input: BulkAwardInput!) {
  bulkAwardPoints(input: $input) { bulkAward { id } userErrors { code message } }
}"""


def local_days(days: int) -> tuple[dict[str, str], list[datetime]]:
    """The range of the last `days` whole days in ZONE, today included, as the page sends
    it, and a moment in each of those days that has already passed."""
    zone = ZoneInfo(ZONE)
    now = datetime.now(zone)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    starts = [
        (today - timedelta(days=back)).replace(tzinfo=zone) for back in range(days - 1, -1, -1)
    ]
    until = datetime.combine(today.date() + timedelta(days=1), today.time(), zone)
    moments = [start + timedelta(hours=12) for start in starts[:-1]]
    moments.append(max(starts[-1], now - timedelta(minutes=1)))
    return {"from": starts[0].isoformat(), "until": until.isoformat()}, moments


def days_in(zone_name: str, first: str, last: str) -> dict[str, str]:
    """The range from the day `first` to the day `last`, inclusive, in that zone."""
    zone = ZoneInfo(zone_name)
    start = datetime.fromisoformat(first).replace(tzinfo=zone)
    until = datetime.fromisoformat(last).replace(tzinfo=zone) + timedelta(days=1)
    return {"from": start.isoformat(), "until": until.isoformat(), "timeZone": zone_name}


class Programme:
    """Seeds a little of everything the dashboard shows, through the API as tills do."""

    def __init__(self, base: str, admin: str, cashier: str) -> None:
        self.base, self.admin, self.cashier = base, admin, cashier
        self.sales = 0
        self.keys = count(1)

    async def set_up(self) -> dict[str, str]:
        for store, name in (("S1", "High Street"), ("S2", "Station"), ("S3", "Airport")):
            await post(self.base, self.admin, CREATE_STORE, {"input": {"id": store, "name": name}})
        reward = {"id": "COFFEE", "name": "A coffee", "pointsCost": 20, "kind": "VOUCHER"}
        created = await post(self.base, self.admin, CREATE_REWARD, {"input": reward})
        assert created["createReward"]["userErrors"] == []
        customers = {}
        for email in ("ada@example.com", "bob@example.com", "cy@example.com"):
            enrolled = await post(self.base, self.cashier, ENROLL, {"input": {"email": email}})
            customers[email.split("@")[0]] = enrolled["enrollCustomer"]["customer"]["id"]
        return customers

    async def earn(self, token: str, customer: str, store: str, price: str, at: datetime) -> None:
        earn_input = {**self._sale(customer, store, price), "occurredAt": at.isoformat()}
        earned = await post(self.base, token, EARN, {"input": earn_input})
        assert earned["earnPoints"]["userErrors"] == [], earned
        self.sales += 1

    async def checkout(
        self, token: str, customer: str, store: str, price: str, at: datetime, **spend: Any
    ) -> None:
        started = at - timedelta(milliseconds=900 + 300 * self.sales)
        checkout_input = {
            **self._sale(customer, store, price),
            "occurredAt": at.isoformat(),
            "startedAt": started.isoformat(),
            **spend,
        }
        paid = await post(self.base, token, CHECKOUT, {"input": checkout_input})
        assert paid["checkout"]["userErrors"] == [], paid
        self.sales += 1

    async def guest_sale(self, store: str, price: str, at: datetime) -> None:
        key = f"guest-{next(self.keys)}"
        sale = {"idempotencyKey": key, "storeId": store, "lines": [line(price)]}
        sale["occurredAt"] = at.isoformat()
        recorded = await post(self.base, self.cashier, GUEST_SALE, {"input": sale})
        assert recorded["recordGuestSale"]["userErrors"] == [], recorded

    async def award(self, customers: list[str]) -> None:
        award = {
            "idempotencyKey": "winter-award",
            "customerIds": customers,
            "points": AWARDED,
            "reason": "winter campaign",
            "campaignId": "WINTER",
        }
        awarded = await post(self.base, self.admin, BULK_AWARD, {"input": award})
        assert awarded["bulkAwardPoints"]["userErrors"] == []

    def _sale(self, customer: str, store: str, price: str) -> dict[str, Any]:
        key = f"sale-{next(self.keys)}"
        return {
            "customerId": customer,
            "idempotencyKey": key,
            "storeId": store,
            "lines": [line(price)],
        }


async def seed(programme: Programme, moments: list[datetime]) -> str:
    """Sales over three days in two stores, a reward and points spent, an award; returns
    a customer's id."""
    customers = await programme.set_up()
    ada, bob, cy = customers["ada"], customers["bob"], customers["cy"]
    admin, cashier = programme.admin, programme.cashier
    first, second, today = moments
    await programme.earn(cashier, ada, "S1", "40.00", first)
    await programme.earn(admin, bob, "S2", "25.00", first + timedelta(hours=1))
    await programme.checkout(cashier, ada, "S1", "10.00", second, rewardId="COFFEE")
    await programme.earn(cashier, cy, "S1", "15.00", second + timedelta(hours=2))
    await programme.guest_sale("S1", "9.99", second + timedelta(hours=3))
    await programme.checkout(admin, bob, "S2", "12.00", today, points=10)
    await programme.earn(cashier, ada, "S1", "8.00", today)
    await programme.award([bob, cy])
    return ada
