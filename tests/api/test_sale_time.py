"""Sales carry their own time: occurredAt on earn, checkout and redeem, and startedAt on
checkout; refused in the future and beyond the window; the rules of that time apply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from persistence.database import Database
from persistence.models import JournalEntryRow, SaleRow
from tests.conftest import GraphQLClient
from tests.operations import create_store, earn, enroll, line, redeem

CHECKOUT = """
mutation($input: CheckoutInput!) {
  checkout(input: $input) { earned { id occurredAt createdAt } userErrors { code field } }
}"""
CREATE_RULE = """
mutation($input: EarningRuleInput!) {
  createEarningRule(input: $input) { earningRule { id } userErrors { code message } }
}"""


def iso(when: datetime) -> str:
    return when.isoformat()


async def test_a_sale_dated_back_is_kept_at_its_time_and_recorded_now(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    customer = (await enroll(gql, email="offline@example.com"))["id"]
    happened = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0)

    earned = await earn(gql, customer, "offline-1", [line("10.00")], occurredAt=iso(happened))

    assert earned["userErrors"] == []
    async with database.reading() as session:
        entry = (await session.execute(select(JournalEntryRow))).scalar_one()
        sale = (await session.execute(select(SaleRow))).scalar_one()
    assert entry.occurred_at == happened == sale.occurred_at
    assert entry.created_at > happened + timedelta(days=2)


async def test_times_in_the_future_or_beyond_the_window_are_refused_and_change_nothing(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    customer = (await enroll(gql, email="clock@example.com"))["id"]
    now = datetime.now(UTC)

    ahead = await earn(gql, customer, "ahead", occurredAt=iso(now + timedelta(minutes=10)))
    old = await redeem(gql, customer, "old", 1, occurredAt=iso(now - timedelta(days=8)))

    assert [e["field"] for e in ahead["userErrors"]] == [["input", "occurredAt"]]
    assert ahead["userErrors"][0]["code"] == "INVALID_INPUT"
    assert old["userErrors"][0]["code"] == "INVALID_INPUT"
    async with database.reading() as session:
        assert (await session.execute(select(JournalEntryRow))).first() is None


async def test_a_retry_with_the_same_time_is_the_same_sale_and_another_time_is_not(
    gql: GraphQLClient,
) -> None:
    await create_store(gql)
    customer = (await enroll(gql, email="retry@example.com"))["id"]
    when = iso(datetime.now(UTC) - timedelta(hours=5))

    first = await earn(gql, customer, "same-key", occurredAt=when)
    again = await earn(gql, customer, "same-key", occurredAt=when)
    other = await earn(gql, customer, "same-key", occurredAt=iso(datetime.now(UTC)))

    assert again["transaction"]["id"] == first["transaction"]["id"]
    assert other["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_a_sale_earns_by_the_rules_in_force_when_it_happened(gql: GraphQLClient) -> None:
    await create_store(gql)
    customer = (await enroll(gql, email="rules@example.com"))["id"]
    before_the_rule = iso(datetime.now(UTC) - timedelta(hours=1))
    rule = {"name": "Grocery at 2", "kind": "CATEGORY_RATE", "category": "grocery", "rate": "2"}
    created = (await gql.data(CREATE_RULE, {"input": rule}))["createEarningRule"]
    assert created["userErrors"] == [], created

    backdated = await earn(gql, customer, "before", [line("10.00")], occurredAt=before_the_rule)
    current = await earn(gql, customer, "after", [line("10.00")])

    assert backdated["transaction"]["points"] == 10
    assert current["transaction"]["points"] == 20


async def checkout(gql: GraphQLClient, **input_: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql.data(CHECKOUT, {"input": input_}))["checkout"]
    return payload


async def test_a_checkout_records_its_processing_time(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    customer = (await enroll(gql, email="till@example.com"))["id"]
    ended = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
    started = ended - timedelta(seconds=42, milliseconds=250)
    base = {"customerId": customer, "storeId": "S1", "lines": [line("5.00")]}

    timed = await checkout(
        gql, **base, idempotencyKey="timed", occurredAt=iso(ended), startedAt=iso(started)
    )
    served = await checkout(gql, **base, idempotencyKey="served")
    late = await checkout(
        gql, **base, idempotencyKey="late", occurredAt=iso(started), startedAt=iso(ended)
    )

    assert timed["userErrors"] == [] == served["userErrors"]
    assert late["userErrors"] == [{"code": "INVALID_INPUT", "field": ["input", "startedAt"]}]
    async with database.reading() as session:
        sales = (await session.execute(select(SaleRow).order_by(SaleRow.id))).scalars().all()
    assert [(s.is_checkout, s.started_at) for s in sales] == [(True, started), (True, None)]
    assert sales[0].processing_ms == 42_250
    assert sales[1].processing_ms is not None
    assert 0 <= sales[1].processing_ms < 10_000
