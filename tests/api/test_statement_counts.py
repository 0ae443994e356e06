"""No N+1: a page of a customer's history, with every sale's breakdown, the balance and
the next expiry, costs the same handful of SQL statements whatever the page's size."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

import httpx
import pytest
from sqlalchemy import event
from starlette.applications import Starlette

from api.app import create_app
from api.services import Services
from api.settings import Settings
from persistence.asyncpg_statements import AsyncpgStatement
from persistence.database import Database
from tests.conftest import GraphQLClient, bearer
from tests.operations import create_store, earn, enroll, line, redeem

# Every EARN of the page has a breakdown; REVERSALs have one too, REDEEMs none.
PAGE = """
query($id: ID!, $first: Int) {
  customer(lookup: {id: $id}) {
    balance pointsExpiringNext pointsExpireAt
    transactions(first: $first) {
      edges { node { id kind points breakdown { points exactPoints lines { sku points }
                                                parts { kind ruleName points } } } }
    }
  }
}"""
REFUND = """
mutation($input: RefundSaleInput!) { refundSale(input: $input) { userErrors { code } } }"""
SALES = 50
# The customer; the page and its lines; the sales (refunds, sales, lines, parts, refunds of
# them); the next expiry: nine.
HANDFUL = 10
# SQLite's BEGIN goes through the engine as a statement; PostgreSQL's does not. Only the
# statements that read data are counted, alike on both.
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@pytest.fixture
async def expiring_app(database: Database) -> AsyncIterator[Starlette]:
    settings = Settings(
        database_url=database.url.render_as_string(hide_password=False),
        points_expiry="earned",
        run_jobs=False,
        outbox_mark_seconds=3600,  # no marking among the statements counted
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def shop(expiring_app: Starlette, admin_token: str) -> AsyncIterator[GraphQLClient]:
    transport = httpx.ASGITransport(app=expiring_app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=bearer(admin_token)
    ) as http:
        yield GraphQLClient(http)


@contextmanager
def statements_counted(app: Starlette) -> Iterator[list[str]]:
    """Every SQL statement the app runs inside the block, through its engines or asyncpg."""
    services: Services = app.state.services
    engines = {services.database.engine.sync_engine, services.database.write_engine.sync_engine}
    seen: list[str] = []

    def count(*arguments: Any) -> None:
        statement = str(arguments[2])
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            seen.append(statement)

    def counted(run: Any) -> Any:
        async def counting(statement: AsyncpgStatement, *arguments: Any) -> Any:
            count(None, None, statement.sql)
            return await run(statement, *arguments)

        return counting

    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        # And those asyncpg runs by itself (persistence/driver.py, Database.first_row).
        with (
            patch.object(AsyncpgStatement, "rows", counted(AsyncpgStatement.rows)),
            patch.object(AsyncpgStatement, "execute_many", counted(AsyncpgStatement.execute_many)),
        ):
            yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


async def customer_with_history(gql: GraphQLClient) -> str:
    """SALES earns of two lines each, a redemption and a refund among them."""
    await create_store(gql, "S1")
    customer_id: str = (await enroll(gql, email="page@example.com"))["id"]
    earned = []
    for number in range(SALES):
        lines = [line("10.00"), line("4.50", category="beauty", sku="LIPSTICK")]
        payload = await earn(gql, customer_id, f"sale-{number}", lines)
        earned.append(payload["transaction"]["id"])
    assert (await redeem(gql, customer_id, "spend", 30))["userErrors"] == []
    refund = {"idempotencyKey": "back", "storeId": "S1", "transactionId": earned[-1]}
    assert (await gql.data(REFUND, {"input": refund}))["refundSale"]["userErrors"] == []
    return customer_id


async def statements_for_page(app: Starlette, gql: GraphQLClient, customer: str, size: int) -> int:
    with statements_counted(app) as seen:
        page = await gql.data(PAGE, {"id": customer, "first": size})
    nodes = [edge["node"] for edge in page["customer"]["transactions"]["edges"]]
    assert len(nodes) == size
    breakdowns = [node["breakdown"] for node in nodes if node["kind"] in ("EARN", "REVERSAL")]
    assert breakdowns, "the page has sales"
    assert all(breakdown is not None and breakdown["lines"] for breakdown in breakdowns)
    assert page["customer"]["pointsExpiringNext"] is not None
    return len(seen)


async def test_a_page_of_fifty_with_breakdowns_and_expiry_takes_a_handful_of_statements(
    expiring_app: Starlette, shop: GraphQLClient
) -> None:
    customer = await customer_with_history(shop)

    statements = await statements_for_page(expiring_app, shop, customer, SALES)

    assert statements <= HANDFUL


async def test_a_larger_page_takes_no_more_statements_than_a_small_one(
    expiring_app: Starlette, shop: GraphQLClient
) -> None:
    customer = await customer_with_history(shop)

    small = await statements_for_page(expiring_app, shop, customer, 5)
    large = await statements_for_page(expiring_app, shop, customer, SALES)

    assert large == small


# One earn of two lines, the customer in its answer, once the process has served one: the
# key claimed; the customer locked, read with the programme's version and how the books
# stand; the account saved; the entry, its lines and its lot; the key completed; the sale,
# its lines and each rule's part; the analytics inbox; the outbox. BEGIN and COMMIT aside.
ONE_EARN = [
    "INSERT INTO idempotency_keys",
    "SELECT customers.id",
    "UPDATE customers",
    "INSERT INTO journal_entries",
    "INSERT INTO journal_lines",
    "INSERT INTO point_lots",
    "UPDATE idempotency_keys",
    "INSERT INTO sales",
    "INSERT INTO sale_lines",
    "INSERT INTO earn_contributions",
    "INSERT INTO analytics_inbox",
    "INSERT INTO outbox",
]
# PostgreSQL inserts the entry with its lines, the sale with its lines and parts, and the
# outbox row with the analytics inbox rows, in one statement each
# (persistence/with_children.py).
ONE_EARN_ON_POSTGRES = [
    "INSERT INTO idempotency_keys",
    "SELECT customers.id",
    "UPDATE customers",
    "WITH journal_entries_inserted",
    "INSERT INTO point_lots",
    "UPDATE idempotency_keys",
    "WITH sales_inserted",
    "WITH analytics_inbox_inserted",
]
EARN_WITH_CUSTOMER = """
mutation($input: EarnPointsInput!) { earnPoints(input: $input) {
  transaction { id points balanceAfter } customer { id name balance balanceVersion }
  userErrors { code } } }"""


async def test_an_earn_is_one_transaction_of_twelve_statements_or_eight(
    expiring_app: Starlette, shop: GraphQLClient
) -> None:
    await create_store(shop, "S1")
    customer_id: str = (await enroll(shop, email="earn@example.com"))["id"]
    await earn(shop, customer_id, "warm-up")
    lines = [line("10.00"), line("4.50", category="beauty", sku="LIPSTICK")]
    sale = {"customerId": customer_id, "idempotencyKey": "counted", "storeId": "S1"}

    with statements_counted(expiring_app) as seen:
        answer = await shop.data(EARN_WITH_CUSTOMER, {"input": sale | {"lines": lines}})

    payload = answer["earnPoints"]
    assert payload["userErrors"] == []
    assert payload["customer"]["balance"] == payload["transaction"]["balanceAfter"] == 24
    assert payload["customer"]["balanceVersion"] == 2
    on_sqlite = expiring_app.state.services.database.is_sqlite
    assert [_opening(statement) for statement in seen] == (
        ONE_EARN if on_sqlite else ONE_EARN_ON_POSTGRES
    )


def _opening(statement: str) -> str:
    """A statement's verb and table (SELECT: its first column)."""
    words = " ".join(statement.split()).rstrip(",").split(" ")
    opening = " ".join(words[:3] if words[0] == "INSERT" else words[:2])
    return opening.rstrip(",")
