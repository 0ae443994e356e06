"""Refunds over HTTP: a returned sale takes back what it earned and gives back what it spent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from api.auth import Role
from api.settings import Settings
from persistence.database import Database
from persistence.models import JournalLineRow
from tests.conftest import GraphQLClient, mint
from tests.operations import USER_ERRORS, create_store, earn, enroll, line, redeem
from tests.programme import add_rule, category_rate

REFUND = f"""
mutation($input: RefundSaleInput!) {{
  refundSale(input: $input) {{
    transaction {{ id kind points balanceAfter reversesTransactionId }}
    pointsTakenBack pointsGivenBack pointsOwed amountRefunded
    customer {{ balance pointsOwed }}
    {USER_ERRORS}
  }}
}}"""

CHECKOUT = f"""
mutation($input: CheckoutInput!) {{
  checkout(input: $input) {{ earned {{ id points }} redeemed {{ id points }} {USER_ERRORS} }}
}}"""

ACCOUNT = """
query($id: ID!) {
  customer(lookup: {id: $id}) {
    balance pointsOwed lifetimeEarned
    transactions(first: 50) {
      edges { node { id kind points reversesTransactionId breakdown { transactionId } } }
    }
  }
}"""

BREAKDOWN = """
query($id: ID!) {
  saleBreakdown(transactionId: $id) {
    transactionId refundTransactionIds lines { lineNumber quantity refundedQuantity }
  }
}"""

# 3 x 3.33 of grocery at the base rate (9.99 points) and 10.10 of beauty at 2.5 (25.25):
# 35.24 exactly, 35 points.
SALE = [line("3.33", 3, "grocery", "BREAD"), line("10.10", 1, "beauty", "CREAM")]


async def sold(gql: GraphQLClient, database: Database) -> tuple[str, str]:
    """Store S1 and a customer who bought SALE: the customer's id and the sale's EARN
    transaction's."""
    await create_store(gql)
    await add_rule(database, category_rate("beauty", "2.5"))
    customer = await enroll(gql, email="ada@example.com")
    earned = await earn(gql, customer["id"], "sale-1", SALE)
    assert earned["transaction"]["points"] == 35
    return customer["id"], earned["transaction"]["id"]


async def refund(
    gql: GraphQLClient, transaction_id: str, key: str, *lines: tuple[int, int]
) -> dict[str, Any]:
    input_: dict[str, Any] = {
        "idempotencyKey": key,
        "storeId": "S1",
        "transactionId": transaction_id,
    }
    if lines:
        input_["lines"] = [{"lineNumber": n, "quantity": q} for n, q in lines]
    payload: dict[str, Any] = (await gql.data(REFUND, {"input": input_}))["refundSale"]
    return payload


async def account(gql: GraphQLClient, customer_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await gql.data(ACCOUNT, {"id": customer_id}))["customer"]
    return found


def codes(payload: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(error["code"], error["field"]) for error in payload["userErrors"]]


async def journal_sums(database: Database, customer_id: str) -> tuple[int, int, int]:
    """The whole journal's sum, and the sums of the customer's and their owed account."""
    async with database.reading() as session:
        sums = [
            await session.scalar(
                select(func.coalesce(func.sum(JournalLineRow.amount), 0)).where(*w)
            )
            for w in (
                (),
                (JournalLineRow.account == f"customer:{customer_id}",),
                (JournalLineRow.account == f"owed:{customer_id}",),
            )
        ]
    whole, customer, owed = (int(value or 0) for value in sums)
    return whole, customer, owed


async def test_a_partial_refund_takes_back_points_pro_rata_and_the_full_refund_the_rest(
    gql: GraphQLClient, database: Database
) -> None:
    _, sale_id = await sold(gql, database)

    bread = await refund(gql, sale_id, "refund-1", (1, 1))
    cream = await refund(gql, sale_id, "refund-2", (2, 1))
    rest = await refund(gql, sale_id, "refund-3")

    # One loaf is 3.33 of the sale's 35.24 points: 35 x 3.33 / 35.24 = 3.31, rounded down.
    assert (bread["pointsTakenBack"], bread["amountRefunded"]) == (3, "3.33")
    assert bread["transaction"]["balanceAfter"] == 32
    # Loaf and cream are 28.58 of 35.24: floor(28.39) = 28 so far, 25 of them now.
    assert (cream["pointsTakenBack"], cream["amountRefunded"]) == (25, "10.10")
    assert cream["transaction"]["balanceAfter"] == 7
    # Everything is back: exactly the 7 points the sale still had.
    assert (rest["pointsTakenBack"], rest["amountRefunded"]) == (7, "6.66")
    assert rest["transaction"]["points"] == -7
    assert rest["customer"] == {"balance": 0, "pointsOwed": 0}
    for payload in (bread, cream, rest):
        assert payload["userErrors"] == []
        assert (payload["pointsGivenBack"], payload["pointsOwed"]) == (0, 0)


async def test_a_reversal_names_the_sales_earn_and_shows_in_the_history(
    gql: GraphQLClient, database: Database
) -> None:
    customer_id, sale_id = await sold(gql, database)

    refunded = await refund(gql, sale_id, "refund-1", (1, 1))

    reversal = refunded["transaction"]
    assert (reversal["kind"], reversal["points"]) == ("REVERSAL", -3)
    assert reversal["reversesTransactionId"] == sale_id
    history = await account(gql, customer_id)
    assert [edge["node"] for edge in history["transactions"]["edges"]] == [
        {
            "id": reversal["id"],
            "kind": "REVERSAL",
            "points": -3,
            "reversesTransactionId": sale_id,
            "breakdown": {"transactionId": sale_id},
        },
        {
            "id": sale_id,
            "kind": "EARN",
            "points": 35,
            "reversesTransactionId": None,
            "breakdown": {"transactionId": sale_id},
        },
    ]


async def test_a_line_cannot_be_refunded_beyond_what_is_left_of_it(
    gql: GraphQLClient, database: Database
) -> None:
    customer_id, sale_id = await sold(gql, database)
    first = await refund(gql, sale_id, "refund-1", (1, 2))
    before = await account(gql, customer_id)

    again = await refund(gql, sale_id, "refund-2", (1, 2))

    # Two loaves are 6.66 of 35.24: floor(6.61) = 6.
    assert first["pointsTakenBack"] == 6
    assert codes(again) == [("INVALID_INPUT", ["input", "lines"])]
    assert again["transaction"] is None
    assert await account(gql, customer_id) == before
    assert before["balance"] == 29
    lines = (await gql.data(BREAKDOWN, {"id": sale_id}))["saleBreakdown"]["lines"]
    assert [row["refundedQuantity"] for row in lines] == [2, 0]


async def test_a_sale_refunded_in_full_cannot_be_refunded_again(
    gql: GraphQLClient, database: Database
) -> None:
    customer_id, sale_id = await sold(gql, database)
    await refund(gql, sale_id, "refund-1")
    before = await account(gql, customer_id)

    again = await refund(gql, sale_id, "refund-2")

    assert codes(again) == [("INVALID_INPUT", ["input"])]
    assert await account(gql, customer_id) == before
    assert (before["balance"], before["pointsOwed"]) == (0, 0)


async def test_a_refund_retried_with_its_key_returns_the_same_reversal(
    gql: GraphQLClient, database: Database
) -> None:
    customer_id, sale_id = await sold(gql, database)
    first = await refund(gql, sale_id, "refund-1", (2, 1))
    before = await account(gql, customer_id)

    again = await refund(gql, sale_id, "refund-1", (2, 1))
    other = await refund(gql, sale_id, "refund-1", (1, 1))

    assert again == first
    assert first["pointsTakenBack"] == 25  # 35 x 25.25 / 35.24 = 25.08
    assert await account(gql, customer_id) == before
    assert before["balance"] == 10
    assert codes(other) == [("IDEMPOTENCY_KEY_REUSED", ["input", "idempotencyKey"])]
    assert await account(gql, customer_id) == before


async def test_points_spent_on_a_sale_are_given_back_with_the_money_refunded(
    gql: GraphQLClient,
) -> None:
    await create_store(gql)
    customer = await enroll(gql, email="ada@example.com")
    await earn(gql, customer["id"], "opening", [line("1000.00")])
    cart = [line("10.00", 2, "grocery", "BREAD"), line("30.00", 1, "grocery", "WINE")]
    input_ = {"customerId": customer["id"], "idempotencyKey": "sale-1", "storeId": "S1"}
    paid = await gql.data(CHECKOUT, {"input": {**input_, "lines": cart, "points": 333}})
    sale_id = paid["checkout"]["earned"]["id"]
    # 3.33 off 50.00, spread 1.332 / 1.998: 18.668 + 28.002 paid in money, 46 points earned.
    spent, earned = paid["checkout"]["redeemed"], paid["checkout"]["earned"]
    assert (spent["points"], earned["points"]) == (-333, 46)

    loaf = await refund(gql, sale_id, "refund-1", (1, 1))
    rest = await refund(gql, sale_id, "refund-2")

    # One loaf is 10.00 of the 50.00 sale: floor(333 / 5) = 66 of the points spent come
    # back; it earned 9.334 of the sale's 46.67 exact points: floor(46 x 0.2) = 9 go.
    # In money it cost a fifth of the 46.67 paid: 9.334, so 9.33 goes back.
    assert (loaf["pointsGivenBack"], loaf["pointsTakenBack"]) == (66, 9)
    assert (loaf["transaction"]["points"], loaf["amountRefunded"]) == (57, "9.33")
    assert loaf["transaction"]["balanceAfter"] == 1000 - 333 + 46 + 57
    # The rest of the sale gives back and takes back exactly what is left of all three.
    assert (rest["pointsGivenBack"], rest["pointsTakenBack"]) == (333 - 66, 46 - 9)
    assert rest["amountRefunded"] == "37.34"  # 46.67 - 9.33
    assert rest["customer"] == {"balance": 1000, "pointsOwed": 0}


async def test_points_already_spent_become_owed_and_the_next_earn_pays_them_off(
    gql: GraphQLClient, database: Database
) -> None:
    customer_id, sale_id = await sold(gql, database)
    spent = await redeem(gql, customer_id, "redeem-1", 30)
    assert spent["customer"]["balance"] == 5

    refunded = await refund(gql, sale_id, "refund-1")

    assert (refunded["pointsTakenBack"], refunded["pointsOwed"]) == (35, 30)
    assert (refunded["transaction"]["points"], refunded["transaction"]["balanceAfter"]) == (-5, 0)
    owing = await account(gql, customer_id)
    assert (owing["balance"], owing["pointsOwed"]) == (0, 30)
    assert await journal_sums(database, customer_id) == (0, owing["balance"], -owing["pointsOwed"])

    earned = await earn(gql, customer_id, "sale-2", [line("50.00")])

    assert (earned["transaction"]["points"], earned["transaction"]["balanceAfter"]) == (20, 20)
    paid_off = await account(gql, customer_id)
    assert (paid_off["balance"], paid_off["pointsOwed"]) == (20, 0)
    assert await journal_sums(database, customer_id) == (
        0,
        paid_off["balance"],
        -paid_off["pointsOwed"],
    )


async def test_points_given_back_by_a_refund_pay_off_points_owed_first(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    customer = await enroll(gql, email="ada@example.com")
    customer_id = customer["id"]
    first = await earn(gql, customer_id, "sale-1", [line("40.00")])
    input_ = {"customerId": customer_id, "idempotencyKey": "sale-2", "storeId": "S1"}
    paid = await gql.data(CHECKOUT, {"input": {**input_, "lines": [line("20.00")], "points": 30}})
    # 0.30 off 20.00: 19 points earned on the 19.70 paid; then the customer spends it all.
    assert paid["checkout"]["earned"]["points"] == 19
    await redeem(gql, customer_id, "redeem-1", 40 - 30 + 19)
    owing = await refund(gql, first["transaction"]["id"], "refund-1")
    assert owing["customer"] == {"balance": 0, "pointsOwed": 40}

    # Returning the checkout takes back 19 and gives back 30: 11 points more for the
    # customer, which go to what is owed before the balance (README, Refunds).
    returned = await refund(gql, paid["checkout"]["earned"]["id"], "refund-2")

    assert (returned["pointsTakenBack"], returned["pointsGivenBack"]) == (19, 30)
    assert (returned["transaction"]["points"], returned["transaction"]["balanceAfter"]) == (0, 0)
    # This refund left nothing uncovered: it paid off owed points instead.
    assert returned["pointsOwed"] == 0
    after = await account(gql, customer_id)
    assert (after["balance"], after["pointsOwed"]) == (0, 40 - 11)
    assert await journal_sums(database, customer_id) == (0, 0, -29)


async def test_a_refund_of_an_unknown_transaction_is_refused(
    gql: GraphQLClient, database: Database
) -> None:
    customer_id, _ = await sold(gql, database)
    redeemed = await redeem(gql, customer_id, "redeem-1", 10)

    for unknown in ("987654", redeemed["transaction"]["id"], "not-a-number"):
        refused = await refund(gql, unknown, f"refund-{unknown}")
        assert codes(refused) == [("INVALID_INPUT", ["input", "transactionId"])], unknown
    assert (await account(gql, customer_id))["balance"] == 25


async def test_a_refund_under_a_key_of_another_request_is_told_so_before_its_sale_is_looked_up(
    gql: GraphQLClient, database: Database
) -> None:
    """The key is claimed first, as for every movement: reusing it is the error to fix."""
    await sold(gql, database)

    refused = await refund(gql, "987654", "sale-1")

    assert codes(refused) == [("IDEMPOTENCY_KEY_REUSED", ["input", "idempotencyKey"])]


async def test_a_refund_in_an_unknown_store_is_refused_for_its_store_first(
    gql: GraphQLClient, database: Database
) -> None:
    await sold(gql, database)
    input_ = {"idempotencyKey": "nowhere", "storeId": "S9", "transactionId": "987654"}

    refused = (await gql.data(REFUND, {"input": input_}))["refundSale"]

    assert codes(refused) == [("INVALID_INPUT", ["input", "storeId"])]


async def test_a_manager_may_refund(
    gql: GraphQLClient, database: Database, settings: Settings
) -> None:
    _, sale_id = await sold(gql, database)
    manager = gql.with_token(mint(settings, Role.MANAGER))

    refunded = await refund(manager, sale_id, "refund-1")

    assert refunded["userErrors"] == []
    assert refunded["pointsTakenBack"] == 35


async def test_a_cashier_without_the_refund_right_is_forbidden(
    gql: GraphQLClient, database: Database, settings: Settings
) -> None:
    customer_id, sale_id = await sold(gql, database)
    cashier = gql.with_token(mint(settings, Role.CASHIER))

    body = await cashier.raw(
        REFUND, {"input": {"idempotencyKey": "r-1", "storeId": "S1", "transactionId": sale_id}}
    )

    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["FORBIDDEN"]
    assert (await account(gql, customer_id))["balance"] == 35


async def test_a_cashier_with_the_refund_right_may_refund(
    gql: GraphQLClient, database: Database, settings: Settings
) -> None:
    _, sale_id = await sold(gql, database)
    cashier = gql.with_token(mint(settings, Role.CASHIER, rights=("refund",)))

    refunded = await refund(cashier, sale_id, "refund-1", (1, 3))

    assert refunded["userErrors"] == []
    assert refunded["pointsTakenBack"] == 9  # 35 x 9.99 / 35.24 = 9.92
    assert refunded["customer"]["balance"] == 26


async def test_the_sale_breakdown_shows_what_was_refunded_and_by_which_transactions(
    gql: GraphQLClient, database: Database
) -> None:
    _, sale_id = await sold(gql, database)
    first = await refund(gql, sale_id, "refund-1", (1, 1))
    second = await refund(gql, sale_id, "refund-2", (1, 1), (2, 1))

    breakdown = (await gql.data(BREAKDOWN, {"id": sale_id}))["saleBreakdown"]

    assert breakdown == {
        "transactionId": sale_id,
        "refundTransactionIds": [first["transaction"]["id"], second["transaction"]["id"]],
        "lines": [
            {"lineNumber": 1, "quantity": 3, "refundedQuantity": 2},
            {"lineNumber": 2, "quantity": 1, "refundedQuantity": 1},
        ],
    }
