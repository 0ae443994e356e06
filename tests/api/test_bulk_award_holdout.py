"""bulkAwardPoints with holdoutPercent: a reproducible random share of the recipients is
kept out as a control group; they get nothing, never fail, and the job still completes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from api.app import create_app
from api.settings import Settings
from domain.campaigns import held_out
from domain.use_cases import campaigns as campaign_use_cases
from persistence.database import Database
from persistence.models import BulkAwardRecipientRow
from tests.conftest import GraphQLClient
from tests.operations import LOOKUP, USER_ERRORS, enroll

JOB = (
    "id status totalCustomers awardedCustomers failedCustomers holdoutPercent "
    "holdoutCustomers completedAt failures { customerId }"
)
BULK_AWARD = f"""
mutation($input: BulkAwardInput!) {{
  bulkAwardPoints(input: $input) {{ bulkAward {{ {JOB} }} {USER_ERRORS} }}
}}"""
REVERSE = f"""
mutation($input: ReverseBulkAwardInput!) {{
  reverseBulkAward(input: $input) {{ bulkAward {{ {JOB} }} {USER_ERRORS} }}
}}"""
PROGRESS = f"query($id: ID!) {{ bulkAward(id: $id) {{ {JOB} }} }}"
CUSTOMERS = 200
POINTS = 40


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    """The app without its background worker: the tests run jobs when they choose."""
    app = create_app(settings.model_copy(update={"run_jobs": False}))
    async with app.router.lifespan_context(app):
        yield app


async def run_jobs(app: Starlette) -> None:
    await app.state.services.worker.drain()


async def enrol(gql: GraphQLClient, count: int, prefix: str = "fan") -> list[str]:
    return [(await enroll(gql, email=f"{prefix}{n}@example.com"))["id"] for n in range(count)]


async def start(gql: GraphQLClient, **input_: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql.data(BULK_AWARD, {"input": input_}))["bulkAwardPoints"]
    return payload


async def job(gql: GraphQLClient, job_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await gql.data(PROGRESS, {"id": job_id}))["bulkAward"]
    return found


async def balances(gql: GraphQLClient, customer_ids: list[str]) -> dict[str, int]:
    found = {}
    for customer_id in customer_ids:
        customer = (await gql.data(LOOKUP, {"lookup": {"id": customer_id}}))["customer"]
        found[customer_id] = int(customer["balance"])
    return found


async def held_out_recipients(database: Database, job_id: str) -> set[str]:
    async with database.reading() as session:
        rows = await session.scalars(
            select(BulkAwardRecipientRow.customer_id).where(
                BulkAwardRecipientRow.bulk_award_id == job_id,
                BulkAwardRecipientRow.status == "HOLDOUT",
            )
        )
        return set(rows)


def award(key: str, **extra: Any) -> dict[str, Any]:
    return {"idempotencyKey": key, "points": POINTS, "reason": "Winter promo", **extra}


@pytest.mark.parametrize("by", ["ids", "segment"])
async def test_a_holdout_keeps_its_share_out_and_awards_everyone_else(
    app: Starlette, gql: GraphQLClient, database: Database, by: str
) -> None:
    customers = await enrol(gql, CUSTOMERS)
    everyone = {"customerIds": [], "segment": {"everyone": True}}
    chosen = {"customerIds": customers} if by == "ids" else everyone

    started = await start(gql, **award("winter", holdoutPercent=10, **chosen))
    await run_jobs(app)
    job_id = started["bulkAward"]["id"]
    done = await job(gql, job_id)
    kept_out = held_out(job_id, customers, 10)
    balance = await balances(gql, customers)

    assert started["userErrors"] == []
    assert started["bulkAward"]["holdoutPercent"] == 10
    assert started["bulkAward"]["holdoutCustomers"] == len(kept_out)
    # 10 % of 200 is 20; the share is random, so a generous band (a miss is below 1 in 10^6).
    assert 5 <= len(kept_out) <= 40
    assert await held_out_recipients(database, job_id) == kept_out
    assert done["status"] == "COMPLETED"
    assert done["completedAt"] is not None
    assert (done["totalCustomers"], done["holdoutCustomers"]) == (CUSTOMERS, len(kept_out))
    assert (done["awardedCustomers"], done["failedCustomers"]) == (CUSTOMERS - len(kept_out), 0)
    assert done["failures"] == []
    assert {c for c, points in balance.items() if points == 0} == kept_out
    assert {c for c, points in balance.items() if points == POINTS} == set(customers) - kept_out


async def test_without_a_holdout_nobody_is_held_out(app: Starlette, gql: GraphQLClient) -> None:
    customers = await enrol(gql, 20)

    started = await start(gql, **award("everyone", customerIds=customers))
    await run_jobs(app)
    done = await job(gql, started["bulkAward"]["id"])

    assert started["bulkAward"]["holdoutPercent"] == 0
    assert (done["status"], done["awardedCustomers"], done["holdoutCustomers"]) == (
        "COMPLETED",
        20,
        0,
    )


async def test_a_holdout_percent_outside_0_to_50_is_refused_and_starts_no_job(
    app: Starlette, gql: GraphQLClient
) -> None:
    customers = await enrol(gql, 3)

    refused = [
        await start(gql, **award("bad", customerIds=customers, holdoutPercent=percent))
        for percent in (-1, 51, 100)
    ]
    afterwards = await start(gql, **award("bad", customerIds=customers, holdoutPercent=50))

    for payload in refused:
        assert payload["bulkAward"] is None
        assert payload["userErrors"][0]["code"] == "INVALID_INPUT"
        assert payload["userErrors"][0]["field"] == ["input", "holdoutPercent"]
    # The key was not taken by the refused requests.
    assert afterwards["userErrors"] == []
    assert afterwards["bulkAward"]["holdoutPercent"] == 50


async def test_the_same_request_retried_gives_the_same_job_and_another_holdout_is_refused(
    app: Starlette, gql: GraphQLClient
) -> None:
    customers = await enrol(gql, 30)
    request = award("retried", customerIds=customers, holdoutPercent=20)

    first = await start(gql, **request)
    await run_jobs(app)
    again = await start(gql, **request)
    other_share = await start(gql, **{**request, "holdoutPercent": 30})
    no_share = await start(gql, **{**request, "holdoutPercent": 0})
    await run_jobs(app)
    balance = await balances(gql, customers)

    assert again["userErrors"] == []
    assert again["bulkAward"]["id"] == first["bulkAward"]["id"]
    assert again["bulkAward"]["holdoutCustomers"] == first["bulkAward"]["holdoutCustomers"]
    for reused in (other_share, no_share):
        assert [e["code"] for e in reused["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    awarded = len(customers) - first["bulkAward"]["holdoutCustomers"]
    assert sum(points == POINTS for points in balance.values()) == awarded
    assert set(balance.values()) <= {0, POINTS}


async def test_a_job_whose_every_recipient_is_held_out_completes_at_once(
    app: Starlette, gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = uuid.UUID("00000000-0000-4000-8000-000000000001")
    monkeypatch.setattr(campaign_use_cases, "uuid", SimpleNamespace(uuid4=lambda: job_id))
    customers = await enrol(gql, 12)
    kept_out = sorted(held_out(str(job_id), customers, 50))
    assert kept_out, "with 12 customers at 50 % some are held out (odds 1 in 4096 not)"

    started = await start(gql, **award("nobody", customerIds=kept_out[:1], holdoutPercent=50))

    assert started["bulkAward"]["id"] == str(job_id)
    assert started["bulkAward"]["status"] == "COMPLETED"
    assert (started["bulkAward"]["holdoutCustomers"], started["bulkAward"]["awardedCustomers"]) == (
        1,
        0,
    )
    assert (await job(gql, str(job_id)))["status"] == "COMPLETED"
    assert await balances(gql, kept_out[:1]) == {kept_out[0]: 0}


async def test_reversing_a_job_with_a_holdout_takes_back_only_what_was_awarded(
    app: Starlette, gql: GraphQLClient
) -> None:
    customers = await enrol(gql, 40)
    started = await start(gql, **award("to-reverse", customerIds=customers, holdoutPercent=25))
    await run_jobs(app)
    job_id = started["bulkAward"]["id"]
    kept_out = held_out(job_id, customers, 25)

    reverse = {"bulkAwardId": job_id, "idempotencyKey": "undo", "reason": "Wrong list"}
    reversal = (await gql.data(REVERSE, {"input": reverse}))["reverseBulkAward"]
    await run_jobs(app)
    undone = await job(gql, reversal["bulkAward"]["id"])

    assert reversal["userErrors"] == []
    assert undone["status"] == "COMPLETED"
    assert (undone["totalCustomers"], undone["awardedCustomers"]) == (
        len(customers) - len(kept_out),
        len(customers) - len(kept_out),
    )
    assert (undone["holdoutPercent"], undone["holdoutCustomers"], undone["failedCustomers"]) == (
        0,
        0,
        0,
    )
    assert set((await balances(gql, customers)).values()) == {0}
