"""Idempotency keys: one effect per key, the first answer on every retry, even in a race."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from persistence.database import Database
from persistence.models import IdempotencyKeyRow, JournalEntryRow, SaleRow
from tests.conftest import GraphQLClient
from tests.operations import LOOKUP, create_store, earn, enroll, line, redeem


async def count(database: Database, model: type) -> int:
    async with database.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_retried_earn_returns_the_first_result_and_earns_once(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    customer = await enroll(gql, email="retry@example.com")

    first = await earn(gql, customer["id"], "sale-42", [line("40.00")], saleId="R-42")
    again = await earn(gql, customer["id"], "sale-42", [line("40.00")], saleId="R-42")

    assert again["userErrors"] == []
    assert again["transaction"] == first["transaction"]
    assert again["customer"]["balance"] == 40
    assert await count(database, JournalEntryRow) == 1
    assert await count(database, SaleRow) == 1


async def test_the_same_amount_written_differently_is_the_same_request(
    gql: GraphQLClient,
) -> None:
    await create_store(gql)
    customer = await enroll(gql, email="decimal@example.com")

    first = await earn(gql, customer["id"], "sale-1", [line("12.5")])
    again = await earn(gql, customer["id"], "sale-1", [line("12.50")])

    assert again["transaction"]["id"] == first["transaction"]["id"]


async def test_a_key_reused_for_a_different_request_is_refused_and_changes_nothing(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    customer = await enroll(gql, email="reuse@example.com")
    await earn(gql, customer["id"], "key-1", [line("10.00")])

    different_sale = await earn(gql, customer["id"], "key-1", [line("99.00")])
    used_for_redeem = await redeem(gql, customer["id"], "key-1", 5)

    for payload in (different_sale, used_for_redeem):
        assert payload["transaction"] is None
        assert [error["code"] for error in payload["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]
        assert payload["userErrors"][0]["field"] == ["input", "idempotencyKey"]
    found = await gql.data(LOOKUP, {"lookup": {"id": customer["id"]}})
    assert found["customer"]["balance"] == 10
    assert await count(database, JournalEntryRow) == 1


async def test_a_refused_redeem_stays_refused_on_retry_after_a_top_up(
    gql: GraphQLClient,
) -> None:
    await create_store(gql)
    customer = await enroll(gql, email="refused@example.com")
    await earn(gql, customer["id"], "earn-1", [line("5.00")])

    refused = await redeem(gql, customer["id"], "redeem-1", 50)
    await earn(gql, customer["id"], "earn-2", [line("100.00")])
    retried = await redeem(gql, customer["id"], "redeem-1", 50)

    assert [e["code"] for e in refused["userErrors"]] == ["INSUFFICIENT_POINTS"]
    assert retried["userErrors"] == refused["userErrors"]
    assert retried["transaction"] is None
    found = await gql.data(LOOKUP, {"lookup": {"id": customer["id"]}})
    assert found["customer"]["balance"] == 105


async def test_a_request_refused_for_bad_input_leaves_its_key_free(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    customer = await enroll(gql, email="typo@example.com")

    unknown_store = await earn(gql, customer["id"], "sale-7", [line("10.00")], store_id="NOPE")
    corrected = await earn(gql, customer["id"], "sale-7", [line("10.00")])

    assert [e["code"] for e in unknown_store["userErrors"]] == ["INVALID_INPUT"]
    assert corrected["userErrors"] == []
    assert corrected["customer"]["balance"] == 10
    assert await count(database, IdempotencyKeyRow) == 1


async def test_racing_retries_of_one_earn_have_one_effect(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    customer = await enroll(gql, email="race@example.com")

    results = await asyncio.gather(
        *(earn(gql, customer["id"], "same-key", [line("25.00")]) for _ in range(20))
    )

    assert all(result["userErrors"] == [] for result in results)
    assert len({result["transaction"]["id"] for result in results}) == 1
    found = await gql.data(LOOKUP, {"lookup": {"id": customer["id"]}})
    assert found["customer"]["balance"] == 25
    assert await count(database, JournalEntryRow) == 1
