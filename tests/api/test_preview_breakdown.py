"""previewEarn is the earn of the same cart, computed the same way, with nothing written."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from starlette.applications import Starlette

from domain.rewards import Reward
from domain.rules import EarningRule, RuleKind
from persistence.database import Database
from persistence.models import metadata
from tests.conftest import GraphQLClient
from tests.operations import USER_ERRORS, create_store, earn, enroll, line
from tests.programme import add_reward, add_rule, category_rate

BREAKDOWN = """
transactionId points exactPoints total discount pointsRedeemed refundTransactionIds
lines {
  lineNumber sku category quantity unitPrice amount earningAmount rate multiplier points
  refundedQuantity
}
parts { kind ruleId ruleVersion ruleName lineNumber points }"""
PREVIEW = f"""
query($input: PreviewEarnInput!) {{
  previewEarn(input: $input) {{
    points projectedBalance pointsToNextReward
    rewardsInReach {{ id pointsCost }}
    nextReward {{ id pointsCost }}
    breakdown {{ {BREAKDOWN} }}
  }}
}}"""
EARN = f"""
mutation($input: EarnPointsInput!) {{
  earnPoints(input: $input) {{
    transaction {{ id points balanceAfter breakdown {{ {BREAKDOWN} }} }} {USER_ERRORS}
  }}
}}"""
STATE = """
query($id: ID!) {
  customer(lookup: {id: $id}) {
    balance balanceVersion lifetimeEarned pointsOwed
    transactions(first: 50) { edges { node { id kind points } } }
  }
}"""
CART = [line("4.25", 2, "produce", "APPLES"), line("1.33", 3)]


async def customer_with_30_points(gql: GraphQLClient) -> str:
    await create_store(gql)
    customer_id = str((await enroll(gql, email="ada@example.com"))["id"])
    assert (await earn(gql, customer_id, "top-up", [line("30.00")]))["userErrors"] == []
    return customer_id


async def preview(
    gql: GraphQLClient, customer_id: str | None, lines: list[dict[str, Any]]
) -> dict[str, Any]:
    input_ = {"customerId": customer_id, "storeId": "S1", "lines": lines}
    found: dict[str, Any] = (await gql.data(PREVIEW, {"input": input_}))["previewEarn"]
    return found


async def earn_cart(
    gql: GraphQLClient, customer_id: str, key: str, lines: list[dict[str, Any]]
) -> dict[str, Any]:
    input_ = {"customerId": customer_id, "idempotencyKey": key, "storeId": "S1", "lines": lines}
    payload = (await gql.data(EARN, {"input": input_}))["earnPoints"]
    assert payload["userErrors"] == [], payload
    transaction: dict[str, Any] = payload["transaction"]
    return transaction


async def produce_promotion(database: Database) -> tuple[str, str, str]:
    """Produce at 2 points per 1.00, a 1.5x produce week and a 10-point bonus: their ids."""
    rate = await add_rule(database, category_rate("produce", "2"))
    week = EarningRule(
        "", 0, "Produce week", RuleKind.MULTIPLIER, Decimal("1.5"), category="produce"
    )
    bonus = EarningRule("", 0, "Basket bonus", RuleKind.FLAT_BONUS, bonus_points=10)
    return rate.id, (await add_rule(database, week)).id, (await add_rule(database, bonus)).id


async def catalog(database: Database) -> None:
    for reward_id, cost in (("COFFEE", 40), ("TEA", 60), ("CAKE", 80), ("LUNCH", 150)):
        await add_reward(database, Reward(reward_id, reward_id.title(), cost))
    await add_reward(database, Reward("OFF", "Switched off", 45, active=False))
    await add_reward(database, Reward("HARBOUR", "Harbour only", 50, store_ids=frozenset({"S2"})))


async def test_a_preview_shows_exactly_what_earning_the_same_cart_records(
    gql: GraphQLClient, database: Database
) -> None:
    customer_id = await customer_with_30_points(gql)
    rate_id, week_id, bonus_id = await produce_promotion(database)
    await catalog(database)

    previewed = await preview(gql, customer_id, CART)
    earned = await earn_cart(gql, customer_id, "sale-1", CART)

    assert {key: value for key, value in previewed.items() if key != "breakdown"} == {
        "points": 39,  # 17.00 + 8.50 + 3.99 + 10.00 = 39.49
        "projectedBalance": 69,
        "rewardsInReach": [{"id": "COFFEE", "pointsCost": 40}, {"id": "TEA", "pointsCost": 60}],
        "nextReward": {"id": "CAKE", "pointsCost": 80},
        "pointsToNextReward": 11,
    }
    assert previewed["breakdown"] == {
        "transactionId": None, "points": 39, "exactPoints": "39.49", "total": "12.49",
        "discount": "0.00", "pointsRedeemed": 0, "refundTransactionIds": [],
        "lines": [
            {"lineNumber": 1, "sku": "APPLES", "category": "produce", "quantity": 2,
             "unitPrice": "4.25", "amount": "8.50", "earningAmount": "8.50", "rate": "2.00",
             "multiplier": "1.50", "points": "25.50", "refundedQuantity": 0},
            {"lineNumber": 2, "sku": "SKU-1", "category": "grocery", "quantity": 3,
             "unitPrice": "1.33", "amount": "3.99", "earningAmount": "3.99", "rate": "1.00",
             "multiplier": "1.00", "points": "3.99", "refundedQuantity": 0},
        ],
        "parts": [
            {"kind": "RATE", "ruleId": rate_id, "ruleVersion": 1, "ruleName": "produce rate",
             "lineNumber": 1, "points": "17.00"},
            {"kind": "MULTIPLIER", "ruleId": week_id, "ruleVersion": 1,
             "ruleName": "Produce week", "lineNumber": 1, "points": "8.50"},
            {"kind": "RATE", "ruleId": None, "ruleVersion": None, "ruleName": None,
             "lineNumber": 2, "points": "3.99"},
            {"kind": "BONUS", "ruleId": bonus_id, "ruleVersion": 1, "ruleName": "Basket bonus",
             "lineNumber": None, "points": "10.00"},
        ],
    }  # fmt: skip
    assert (earned["points"], earned["balanceAfter"]) == (39, 69)
    assert earned["breakdown"] == {**previewed["breakdown"], "transactionId": earned["id"]}


async def test_a_preview_counts_the_days_earns_against_a_daily_cap_as_the_earn_does(
    gql: GraphQLClient, database: Database
) -> None:
    customer_id = await customer_with_30_points(gql)
    capped = replace(category_rate("produce", "3"), max_points_per_customer_per_day=20)
    rule_id = (await add_rule(database, capped)).id
    produce = [line("5.00", 1, "produce", "APPLE")]
    morning = await earn_cart(gql, customer_id, "morning", produce)

    first_look = await preview(gql, customer_id, produce)
    second_look = await preview(gql, customer_id, produce)
    evening = await earn_cart(gql, customer_id, "evening", produce)

    assert morning["points"] == 15
    assert first_look == second_look
    assert (first_look["points"], first_look["projectedBalance"]) == (5, 50)
    assert [(p["kind"], p["ruleId"], p["points"]) for p in first_look["breakdown"]["parts"]] == [
        ("RATE", rule_id, "15.00"),
        ("CAP", rule_id, "-10.00"),
    ]
    assert (evening["points"], evening["balanceAfter"]) == (5, 50)
    assert evening["breakdown"] == {**first_look["breakdown"], "transactionId": evening["id"]}


async def row_counts(database: Database) -> dict[str, int]:
    async with database.reading() as session:
        return {
            table.name: (
                await session.execute(select(func.count()).select_from(table))
            ).scalar_one()
            for table in metadata.sorted_tables
        }


async def test_a_preview_writes_nothing(
    gql: GraphQLClient, database: Database, app: Starlette
) -> None:
    customer_id = await customer_with_30_points(gql)
    await produce_promotion(database)
    await catalog(database)
    customer_before = (await gql.data(STATE, {"id": customer_id}))["customer"]
    # The setup's own writes counted into the rollups first: the app's worker would
    # otherwise count them while the previews run.
    await app.state.services.rollups.drain()
    rows_before = await row_counts(database)

    with_customer = await preview(gql, customer_id, CART)
    without_customer = await preview(gql, None, CART)

    assert (with_customer["points"], without_customer["points"]) == (39, 39)
    assert without_customer["projectedBalance"] is None
    assert (await gql.data(STATE, {"id": customer_id}))["customer"] == customer_before
    assert customer_before["balance"] == 30
    assert await row_counts(database) == rows_before
