"""reverseBulkAward: a completed award taken back once, from everyone it reached, as a job."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from api.app import create_app
from api.auth import Role
from api.settings import Settings
from persistence.database import Database
from persistence.models import BulkAwardRow, JournalLineRow
from tests.conftest import GraphQLClient, mint
from tests.operations import USER_ERRORS, create_store, earn, enroll, line, redeem

JOB = "id status points reason totalCustomers awardedCustomers failedCustomers reversesBulkAwardId"
BULK_AWARD = f"""
mutation($input: BulkAwardInput!) {{
  bulkAwardPoints(input: $input) {{ bulkAward {{ {JOB} }} {USER_ERRORS} }}
}}"""
REVERSE = f"""
mutation($input: ReverseBulkAwardInput!) {{
  reverseBulkAward(input: $input) {{ bulkAward {{ {JOB} }} {USER_ERRORS} }}
}}"""
PROGRESS = f"query($id: ID!) {{ bulkAward(id: $id) {{ {JOB} }} }}"
ACCOUNT = """
query($id: ID!) {
  customer(lookup: {id: $id}) {
    balance pointsOwed
    transactions(first: 50) { edges { node { id kind points reason reversesTransactionId } } }
  }
}"""


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    """The app without its background worker: the tests run jobs when they choose."""
    app = create_app(settings.model_copy(update={"run_jobs": False}))
    async with app.router.lifespan_context(app):
        yield app


async def run_jobs(app: Starlette) -> None:
    await app.state.services.worker.drain()


async def award(gql: GraphQLClient, customer_ids: list[str], key: str = "spring") -> str:
    input_ = {
        "idempotencyKey": key,
        "customerIds": customer_ids,
        "points": 50,
        "reason": "Spring promo",
        "campaignId": "SPRING",
    }
    payload = (await gql.data(BULK_AWARD, {"input": input_}))["bulkAwardPoints"]
    assert payload["userErrors"] == []
    job_id: str = payload["bulkAward"]["id"]
    return job_id


async def completed_award(app: Starlette, gql: GraphQLClient, customer_ids: list[str]) -> str:
    job_id = await award(gql, customer_ids)
    await run_jobs(app)
    assert (await job(gql, job_id))["status"] == "COMPLETED"
    return job_id


async def reverse(
    gql: GraphQLClient, bulk_award_id: str, key: str = "undo", reason: str = "Sent in error"
) -> dict[str, Any]:
    input_ = {"bulkAwardId": bulk_award_id, "idempotencyKey": key, "reason": reason}
    payload: dict[str, Any] = (await gql.data(REVERSE, {"input": input_}))["reverseBulkAward"]
    return payload


async def job(gql: GraphQLClient, job_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await gql.data(PROGRESS, {"id": job_id}))["bulkAward"]
    return found


async def account(gql: GraphQLClient, customer_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await gql.data(ACCOUNT, {"id": customer_id}))["customer"]
    return found


def of_kind(found: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The customer's transactions of one kind, oldest first."""
    nodes = [edge["node"] for edge in reversed(found["transactions"]["edges"])]
    return [node for node in nodes if node["kind"] == kind]


def refused(payload: dict[str, Any]) -> list[tuple[str, list[str]]]:
    assert payload["bulkAward"] is None
    return [(error["code"], error["field"]) for error in payload["userErrors"]]


async def jobs_count(database: Database) -> int:
    async with database.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(BulkAwardRow)) or 0)


async def journal_total(database: Database, account_pattern: str = "%") -> int:
    async with database.reading() as session:
        total = await session.scalar(
            select(func.coalesce(func.sum(JournalLineRow.amount), 0)).where(
                JournalLineRow.account.like(account_pattern)
            )
        )
    return int(total or 0)


async def customers(gql: GraphQLClient, count: int) -> list[str]:
    await create_store(gql, "S1")
    return [(await enroll(gql, email=f"fan{n}@example.com"))["id"] for n in range(count)]


async def test_a_reversal_takes_the_award_back_from_each_customer_it_reached(
    app: Starlette, gql: GraphQLClient, database: Database
) -> None:
    ids = await customers(gql, 3)
    await earn(gql, ids[0], "before", [line("10.00")])
    original = await completed_award(app, gql, [*ids, "no-such-customer"])

    started = await reverse(gql, original)
    await run_jobs(app)
    done = await job(gql, started["bulkAward"]["id"])
    accounts = [await account(gql, customer_id) for customer_id in ids]

    assert started["userErrors"] == []
    assert started["bulkAward"]["status"] == "PENDING"
    assert started["bulkAward"]["reversesBulkAwardId"] == original
    assert (started["bulkAward"]["points"], started["bulkAward"]["reason"]) == (50, "Sent in error")
    assert (done["status"], done["totalCustomers"], done["awardedCustomers"]) == ("COMPLETED", 3, 3)
    assert done["failedCustomers"] == 0
    assert [(found["balance"], found["pointsOwed"]) for found in accounts] == [
        (10, 0),
        (0, 0),
        (0, 0),
    ]
    for found in accounts:
        [awarded] = of_kind(found, "BULK_AWARD")
        [reversal] = of_kind(found, "REVERSAL")
        assert (reversal["points"], reversal["reason"]) == (-50, "Sent in error")
        assert reversal["reversesTransactionId"] == awarded["id"]
    assert await journal_total(database) == 0
    assert await journal_total(database, "programme:promotions:SPRING") == 0


async def test_a_customer_who_spent_the_award_ends_at_zero_owing_the_shortfall(
    app: Starlette, gql: GraphQLClient, database: Database
) -> None:
    [customer] = await customers(gql, 1)
    await earn(gql, customer, "before", [line("10.00")])
    original = await completed_award(app, gql, [customer])
    spent = await redeem(gql, customer, "spend", 45)
    assert spent["userErrors"] == []

    await reverse(gql, original)
    await run_jobs(app)
    after_reversal = await account(gql, customer)
    await earn(gql, customer, "after", [line("40.00")])
    after_earning = await account(gql, customer)

    assert (after_reversal["balance"], after_reversal["pointsOwed"]) == (0, 35)
    assert [t["points"] for t in of_kind(after_reversal, "REVERSAL")] == [-15]
    assert (after_earning["balance"], after_earning["pointsOwed"]) == (5, 0)
    assert await journal_total(database) == 0
    assert await journal_total(database, f"owed:{customer}") == 0
    assert await journal_total(database, f"customer:{customer}") == 5


async def test_an_award_is_reversed_only_once(
    app: Starlette, gql: GraphQLClient, database: Database
) -> None:
    [customer] = await customers(gql, 1)
    original = await completed_award(app, gql, [customer])

    first = await reverse(gql, original, key="undo-1")
    while_pending = await reverse(gql, original, key="undo-2")
    await run_jobs(app)
    once_done = await reverse(gql, original, key="undo-3")
    await run_jobs(app)

    assert first["userErrors"] == []
    assert refused(while_pending) == [("INVALID_INPUT", ["input", "bulkAwardId"])]
    assert refused(once_done) == [("INVALID_INPUT", ["input", "bulkAwardId"])]
    assert [t["points"] for t in of_kind(await account(gql, customer), "REVERSAL")] == [-50]
    assert await jobs_count(database) == 2


async def test_the_same_key_returns_the_same_reversal_job(
    app: Starlette, gql: GraphQLClient, database: Database
) -> None:
    [customer] = await customers(gql, 1)
    original = await completed_award(app, gql, [customer])

    first = await reverse(gql, original)
    again = await reverse(gql, original)
    await run_jobs(app)
    once_done = await reverse(gql, original)
    other_reason = await reverse(gql, original, reason="Another reason")

    assert again["bulkAward"]["id"] == first["bulkAward"]["id"]
    assert once_done["bulkAward"]["id"] == first["bulkAward"]["id"]
    assert once_done["bulkAward"]["status"] == "COMPLETED"
    assert refused(other_reason) == [("IDEMPOTENCY_KEY_REUSED", ["input", "idempotencyKey"])]
    assert [t["points"] for t in of_kind(await account(gql, customer), "REVERSAL")] == [-50]
    assert await jobs_count(database) == 2


async def test_only_a_completed_bulk_award_can_be_reversed(
    app: Starlette, gql: GraphQLClient, database: Database
) -> None:
    [customer] = await customers(gql, 1)
    pending = await award(gql, [customer])

    not_completed = await reverse(gql, pending, key="undo-pending")
    unknown = await reverse(gql, "no-such-award", key="undo-unknown")

    assert refused(not_completed) == [("INVALID_INPUT", ["input", "bulkAwardId"])]
    assert refused(unknown) == [("INVALID_INPUT", ["input", "bulkAwardId"])]
    assert (await job(gql, pending))["status"] == "PENDING"
    assert await jobs_count(database) == 1


async def test_a_reversal_cannot_itself_be_reversed(
    app: Starlette, gql: GraphQLClient, database: Database
) -> None:
    [customer] = await customers(gql, 1)
    original = await completed_award(app, gql, [customer])
    reversal = (await reverse(gql, original))["bulkAward"]["id"]
    await run_jobs(app)

    again = await reverse(gql, reversal, key="undo-the-undo")
    await run_jobs(app)

    assert refused(again) == [("INVALID_INPUT", ["input", "bulkAwardId"])]
    assert (await account(gql, customer))["balance"] == 0
    assert await jobs_count(database) == 2


async def test_a_reversal_with_nobody_to_take_back_from_is_complete_at_once(
    app: Starlette, gql: GraphQLClient
) -> None:
    await customers(gql, 1)
    original = await completed_award(app, gql, ["no-such-customer"])

    started = (await reverse(gql, original))["bulkAward"]
    stored = await job(gql, started["id"])

    assert (stored["status"], stored["totalCustomers"]) == ("COMPLETED", 0)
    assert (started["status"], started["totalCustomers"]) == ("COMPLETED", 0)


async def test_a_cashier_may_not_reverse_a_bulk_award(
    app: Starlette, gql: GraphQLClient, settings: Settings, database: Database
) -> None:
    [customer] = await customers(gql, 1)
    original = await completed_award(app, gql, [customer])
    input_ = {"bulkAwardId": original, "idempotencyKey": "till", "reason": "Oops"}

    cashier = gql.with_token(mint(settings, Role.CASHIER, stores=("S1",)))
    body = await cashier.raw(REVERSE, {"input": input_})
    await run_jobs(app)

    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["FORBIDDEN"]
    assert (await account(gql, customer))["balance"] == 50
    assert await jobs_count(database) == 1
