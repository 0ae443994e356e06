"""Checkout over HTTP: points spent on a sale and points earned by it, in one call, once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api.app import create_app
from api.auth import Role
from api.settings import Settings
from domain.rewards import Reward, RewardKind
from persistence.database import Database
from persistence.models import JournalEntryRow, RedemptionRow, SaleRow
from tests.conftest import GraphQLClient, mint
from tests.operations import USER_ERRORS, create_store, earn, enroll, line
from tests.programme import add_reward, add_rule, category_rate

TRANSACTION = "id kind points balanceAfter idempotencyKey"
CHECKOUT = f"""
mutation($input: CheckoutInput!) {{
  checkout(input: $input) {{
    earned {{
      {TRANSACTION}
      breakdown {{ discount pointsRedeemed lines {{ lineNumber earningAmount points }} }}
    }}
    redeemed {{ {TRANSACTION} }}
    redemption {{ kind rewardId discountAmount sku voucherCode }}
    amountDue
    customer {{ balance pointsOwed }}
    {USER_ERRORS}
  }}
}}"""

ACCOUNT = """
query($id: ID!) {
  customer(lookup: {id: $id}) {
    balance balanceVersion lifetimeEarned
    transactions(first: 50) { edges { node { id kind points } } }
  }
}"""

FIVE_OFF = Reward(
    "FIVE-OFF", "5.00 off", 60, kind=RewardKind.FIXED_DISCOUNT, discount_amount=Decimal("5.00")
)
COFFEE_VOUCHER = Reward("COFFEE", "A coffee", 40, kind=RewardKind.VOUCHER)
FREE_COFFEE = Reward("FREE-COFFEE", "Free coffee", 40, kind=RewardKind.FREE_ITEM, sku="COFFEE")

# 50.00 in all: 30.00 of grocery at the base rate, 20.00 of beauty at 3 points per 1.00.
MIXED_CART = [line("30.00", 1, "grocery", "BREAD"), line("10.00", 2, "beauty", "CREAM")]
# 30.00 in all, 10.00 in each of three categories earning 1, 2 and 3 points per 1.00.
THREE_CATEGORIES = [
    line("10.00", 1, "grocery", "BREAD"),
    line("10.00", 1, "beauty", "CREAM"),
    line("10.00", 1, "toys", "BALL"),
]


@pytest.fixture
async def points_paid_gql(settings: Settings) -> AsyncIterator[GraphQLClient]:
    """An admin's client of an app whose programme earns on the part paid with points too."""
    app = create_app(settings.model_copy(update={"earn_on_points_paid": True}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield GraphQLClient(http, mint(settings, Role.ADMIN, stores=(), terminal=None))


async def customer_with(gql: GraphQLClient, points: int, email: str = "ada@example.com") -> str:
    """A customer of store S1 holding `points`, earned at the base rate."""
    customer = await enroll(gql, email=email)
    if points:
        earned = await earn(gql, customer["id"], f"opening-{email}", [line(f"{points}.00")])
        assert earned["transaction"]["points"] == points
    customer_id: str = customer["id"]
    return customer_id


async def checkout(
    gql: GraphQLClient, customer_id: str, key: str, lines: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    input_ = {"customerId": customer_id, "idempotencyKey": key, "storeId": "S1", "lines": lines}
    result = await gql.data(CHECKOUT, {"input": {**input_, **extra}})
    payload: dict[str, Any] = result["checkout"]
    return payload


async def account(gql: GraphQLClient, customer_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await gql.data(ACCOUNT, {"id": customer_id}))["customer"]
    return found


async def row_counts(database: Database) -> tuple[int, int, int]:
    """Journal entries, sales and redemptions written so far."""
    async with database.reading() as session:
        counts = [
            await session.scalar(select(func.count()).select_from(table))
            for table in (JournalEntryRow, SaleRow, RedemptionRow)
        ]
    entries, sales, redemptions = (int(count or 0) for count in counts)
    return entries, sales, redemptions


async def test_a_reward_checkout_redeems_and_earns_only_on_the_money_paid(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    await add_rule(database, category_rate("beauty", "3"))
    await add_reward(database, FIVE_OFF)
    customer_id = await customer_with(gql, 100)

    paid = await checkout(gql, customer_id, "sale-1", MIXED_CART, rewardId="FIVE-OFF")

    assert paid["userErrors"] == []
    assert (paid["redeemed"]["kind"], paid["redeemed"]["points"]) == ("REDEEM", -60)
    assert paid["redeemed"]["balanceAfter"] == 40
    # 5.00 off spread 3.00 / 2.00 over the lines: 27.00 x 1 + 18.00 x 3 = 81 points.
    assert (paid["earned"]["kind"], paid["earned"]["points"]) == ("EARN", 81)
    assert paid["earned"]["balanceAfter"] == 121
    assert paid["customer"] == {"balance": 100 - 60 + 81, "pointsOwed": 0}
    assert paid["redemption"] == {
        "kind": "FIXED_DISCOUNT",
        "rewardId": "FIVE-OFF",
        "discountAmount": "5.00",
        "sku": None,
        "voucherCode": None,
    }
    assert paid["amountDue"] == "45.00"
    assert paid["earned"]["breakdown"] == {
        "discount": "5.00",
        "pointsRedeemed": 60,
        "lines": [
            {"lineNumber": 1, "earningAmount": "27.00", "points": "27.00"},
            {"lineNumber": 2, "earningAmount": "18.00", "points": "54.00"},
        ],
    }


async def test_a_reward_checkout_earns_on_the_whole_sale_when_points_paid_earn(
    points_paid_gql: GraphQLClient, database: Database
) -> None:
    gql = points_paid_gql
    await create_store(gql)
    await add_rule(database, category_rate("beauty", "3"))
    await add_reward(database, FIVE_OFF)
    customer_id = await customer_with(gql, 100)

    paid = await checkout(gql, customer_id, "sale-1", MIXED_CART, rewardId="FIVE-OFF")

    assert paid["userErrors"] == []
    assert paid["redeemed"]["points"] == -60
    assert paid["earned"]["points"] == 30 + 60
    assert paid["customer"]["balance"] == 100 - 60 + 90
    assert paid["redemption"]["discountAmount"] == "5.00"
    assert paid["amountDue"] == "45.00"
    earning = [row["earningAmount"] for row in paid["earned"]["breakdown"]["lines"]]
    assert earning == ["30.00", "20.00"]


async def test_points_spent_at_checkout_come_off_the_lines_in_proportion(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    await add_rule(database, category_rate("beauty", "2"))
    await add_rule(database, category_rate("toys", "3"))
    customer_id = await customer_with(gql, 500)

    paid = await checkout(gql, customer_id, "sale-1", THREE_CATEGORIES, points=100)

    assert paid["userErrors"] == []
    assert (paid["redeemed"]["kind"], paid["redeemed"]["points"]) == ("REDEEM", -100)
    assert paid["redemption"] == {
        "kind": "POINTS_OFF",
        "rewardId": None,
        "discountAmount": "1.00",
        "sku": None,
        "voucherCode": None,
    }
    assert paid["amountDue"] == "29.00"
    # 1.00 off is 0.3333 a line, the 0.0001 left over on the first (largest) line:
    # 9.6666 x 1 + 9.6667 x 2 + 9.6667 x 3 = 58.0001, rounded down once.
    earning = [row["earningAmount"] for row in paid["earned"]["breakdown"]["lines"]]
    assert earning == ["9.6666", "9.6667", "9.6667"]
    assert paid["earned"]["points"] == 58
    assert paid["customer"]["balance"] == 500 - 100 + 58


async def test_points_spent_at_checkout_still_earn_when_points_paid_earn(
    points_paid_gql: GraphQLClient, database: Database
) -> None:
    gql = points_paid_gql
    await create_store(gql)
    await add_rule(database, category_rate("beauty", "2"))
    await add_rule(database, category_rate("toys", "3"))
    customer_id = await customer_with(gql, 500)

    paid = await checkout(gql, customer_id, "sale-1", THREE_CATEGORIES, points=100)

    assert paid["userErrors"] == []
    assert paid["redeemed"]["points"] == -100
    assert paid["earned"]["points"] == 10 + 20 + 30
    assert paid["amountDue"] == "29.00"
    assert paid["customer"]["balance"] == 500 - 100 + 60


async def test_points_worth_the_whole_sale_leave_nothing_to_pay_or_earn(
    gql: GraphQLClient,
) -> None:
    await create_store(gql)
    customer_id = await customer_with(gql, 3000)

    paid = await checkout(gql, customer_id, "sale-1", THREE_CATEGORIES, points=3000)

    assert paid["userErrors"] == []
    assert paid["amountDue"] == "0.00"
    assert (paid["redeemed"]["points"], paid["earned"]["points"]) == (-3000, 0)
    assert paid["customer"]["balance"] == 0


async def test_a_checkout_spending_nothing_is_a_plain_earn(gql: GraphQLClient) -> None:
    await create_store(gql)
    customer_id = await customer_with(gql, 0)

    paid = await checkout(gql, customer_id, "sale-1", [line("12.34", 2, "grocery")])

    assert paid["userErrors"] == []
    assert paid["redeemed"] is None
    assert paid["redemption"] is None
    assert (paid["earned"]["kind"], paid["earned"]["points"]) == ("EARN", 24)
    assert paid["amountDue"] == "24.68"
    assert paid["earned"]["breakdown"]["discount"] == "0.00"
    assert paid["earned"]["breakdown"]["pointsRedeemed"] == 0
    assert paid["customer"]["balance"] == 24
    history = (await account(gql, customer_id))["transactions"]["edges"]
    assert [edge["node"]["kind"] for edge in history] == ["EARN"]


async def test_a_checkout_retried_with_its_key_returns_the_same_two_transactions(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    await add_reward(database, FIVE_OFF)
    customer_id = await customer_with(gql, 100)
    first = await checkout(gql, customer_id, "sale-1", MIXED_CART, rewardId="FIVE-OFF")
    before = await account(gql, customer_id)
    written = await row_counts(database)

    again = await checkout(gql, customer_id, "sale-1", MIXED_CART, rewardId="FIVE-OFF")

    assert again == first
    assert again["earned"]["idempotencyKey"] == "sale-1"
    assert await account(gql, customer_id) == before
    assert before["balance"] == 100 - 60 + 45
    assert len(before["transactions"]["edges"]) == 3
    assert await row_counts(database) == written


async def test_a_voucher_checkout_retried_returns_the_same_voucher_code(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    await add_reward(database, COFFEE_VOUCHER)
    customer_id = await customer_with(gql, 100)
    first = await checkout(gql, customer_id, "sale-1", MIXED_CART, rewardId="COFFEE")

    again = await checkout(gql, customer_id, "sale-1", MIXED_CART, rewardId="COFFEE")

    code = first["redemption"]["voucherCode"]
    assert isinstance(code, str)
    assert len(code) == 12
    assert first["redemption"]["kind"] == "VOUCHER"
    assert first["redemption"]["discountAmount"] is None
    assert first["amountDue"] == "50.00"
    assert (first["redeemed"]["points"], first["earned"]["points"]) == (-40, 50)
    assert again["redemption"]["voucherCode"] == code
    assert (again["earned"]["id"], again["redeemed"]["id"]) == (
        first["earned"]["id"],
        first["redeemed"]["id"],
    )
    assert (await account(gql, customer_id))["balance"] == 100 - 40 + 50


async def test_a_checkout_key_reused_for_another_cart_is_refused(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    await add_reward(database, FIVE_OFF)
    customer_id = await customer_with(gql, 100)
    await checkout(gql, customer_id, "sale-1", MIXED_CART, rewardId="FIVE-OFF")
    before = await account(gql, customer_id)

    other = await checkout(gql, customer_id, "sale-1", [line("99.00")], rewardId="FIVE-OFF")

    assert [(e["code"], e["field"]) for e in other["userErrors"]] == [
        ("IDEMPOTENCY_KEY_REUSED", ["input", "idempotencyKey"])
    ]
    assert (other["earned"], other["redeemed"]) == (None, None)
    assert await account(gql, customer_id) == before


async def test_a_checkout_short_of_points_writes_nothing_not_even_the_earn(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    await add_reward(database, FIVE_OFF)
    customer_id = await customer_with(gql, 59)
    before = await account(gql, customer_id)
    written = await row_counts(database)

    refused = await checkout(gql, customer_id, "sale-1", MIXED_CART, rewardId="FIVE-OFF")

    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("INSUFFICIENT_POINTS", ["input", "points"])
    ]
    assert (refused["earned"], refused["redeemed"], refused["amountDue"]) == (None, None, None)
    assert await account(gql, customer_id) == before
    assert before["balance"] == 59
    assert await row_counts(database) == written


async def test_points_worth_more_than_the_sale_are_refused(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    customer_id = await customer_with(gql, 2000)
    before = await account(gql, customer_id)
    written = await row_counts(database)

    refused = await checkout(gql, customer_id, "sale-1", [line("10.00")], points=1001)

    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("INVALID_INPUT", ["input", "points"])
    ]
    assert await account(gql, customer_id) == before
    assert await row_counts(database) == written


async def test_a_free_item_reward_takes_the_items_price_off(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    await add_reward(database, FREE_COFFEE)
    customer_id = await customer_with(gql, 100)
    cart = [line("2.50", 2, "drinks", "COFFEE"), line("7.50", 1, "grocery", "BREAD")]

    paid = await checkout(gql, customer_id, "sale-1", cart, rewardId="FREE-COFFEE")

    assert paid["userErrors"] == []
    assert paid["redemption"]["kind"] == "FREE_ITEM"
    assert paid["redemption"]["sku"] == "COFFEE"
    assert paid["redemption"]["discountAmount"] == "2.50"
    assert paid["amountDue"] == "10.00"
    assert (paid["redeemed"]["points"], paid["earned"]["points"]) == (-40, 10)


async def test_a_free_item_reward_needs_the_item_in_the_cart(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    await add_reward(database, FREE_COFFEE)
    customer_id = await customer_with(gql, 100)
    before = await account(gql, customer_id)
    written = await row_counts(database)

    refused = await checkout(gql, customer_id, "sale-1", MIXED_CART, rewardId="FREE-COFFEE")

    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("INVALID_INPUT", ["input", "rewardId"])
    ]
    assert await account(gql, customer_id) == before
    assert await row_counts(database) == written


async def test_a_cashier_cannot_check_out_in_another_store(
    gql: GraphQLClient, settings: Settings, database: Database
) -> None:
    await create_store(gql)
    await create_store(gql, "S2", "Other")
    customer_id = await customer_with(gql, 100)
    cashier = gql.with_token(mint(settings, Role.CASHIER, stores=("S2",)))
    written = await row_counts(database)

    refused = await checkout(cashier, customer_id, "sale-1", [line("10.00")], points=50)

    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("FORBIDDEN", ["input", "storeId"])
    ]
    assert refused["earned"] is None
    assert (await account(gql, customer_id))["balance"] == 100
    assert await row_counts(database) == written
