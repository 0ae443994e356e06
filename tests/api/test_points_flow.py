"""The till's everyday path over HTTP: enrol, look up, earn, redeem."""

from __future__ import annotations

from tests.conftest import GraphQLClient
from tests.operations import LOOKUP, create_store, earn, enroll, line, redeem


async def test_earn_then_redeem_moves_the_balance_both_ways(gql: GraphQLClient) -> None:
    await create_store(gql)
    customer = await enroll(gql, email="Ada@Example.com", name="Ada")

    earned = await earn(
        gql,
        customer["id"],
        "sale-1",
        [line("12.75", 2, "grocery"), line("5.30", 1, "beauty", "SKU-2")],
        terminalId="T1",
        saleId="R-1",
    )
    assert earned["userErrors"] == []
    assert earned["transaction"]["points"] == 30  # 25.50 + 5.30 at the base rate, rounded down
    assert earned["transaction"]["terminalId"] == "T1"
    assert earned["customer"]["balance"] == 30

    spent = await redeem(gql, customer["id"], "redeem-1", 30)
    assert spent["userErrors"] == []
    assert spent["transaction"]["kind"] == "REDEEM"
    assert spent["transaction"]["points"] == -30
    assert spent["transaction"]["balanceAfter"] == 0

    found = await gql.data(LOOKUP, {"lookup": {"email": "ADA@example.COM"}})
    assert found["customer"]["balance"] == 0
    assert found["customer"]["balanceVersion"] == 2
    assert found["customer"]["lifetimeEarned"] == 30
