"""bulkAwardPoints: a job that returns at once and awards every listed customer once."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import GraphQLClient
from tests.operations import LOOKUP, USER_ERRORS, enroll

BULK_AWARD = f"""
mutation($input: BulkAwardInput!) {{
  bulkAwardPoints(input: $input) {{
    bulkAward {{ id status points reason campaignId totalCustomers awardedCustomers }}
    {USER_ERRORS}
  }}
}}"""

PROGRESS = """
query($id: ID!) {
  bulkAward(id: $id) {
    id status totalCustomers awardedCustomers failedCustomers completedAt
    failures { customerId code message }
  }
}"""


async def start(gql: GraphQLClient, **input_: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql.data(BULK_AWARD, {"input": input_}))["bulkAwardPoints"]
    return payload


async def finished(gql: GraphQLClient, job_id: str) -> dict[str, Any]:
    for _ in range(100):
        job: dict[str, Any] = (await gql.data(PROGRESS, {"id": job_id}))["bulkAward"]
        if job["status"] == "COMPLETED":
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"bulk award {job_id} did not complete: {job}")


async def balance(gql: GraphQLClient, customer_id: str) -> int:
    found = await gql.data(LOOKUP, {"lookup": {"id": customer_id}})
    return int(found["customer"]["balance"])


async def test_a_bulk_award_gives_each_listed_customer_the_points_once(gql: GraphQLClient) -> None:
    customers = [(await enroll(gql, email=f"fan{n}@example.com"))["id"] for n in range(3)]
    ids = [*customers, customers[0], "no-such-customer"]

    started = await start(
        gql,
        idempotencyKey="spring-1",
        customerIds=ids,
        points=50,
        reason="Spring promo",
        campaignId="SPRING",
    )
    job = await finished(gql, started["bulkAward"]["id"])

    assert started["userErrors"] == []
    assert started["bulkAward"]["status"] in {"PENDING", "RUNNING", "COMPLETED"}
    assert (job["totalCustomers"], job["awardedCustomers"], job["failedCustomers"]) == (4, 3, 1)
    assert job["completedAt"] is not None
    assert job["failures"] == [
        {
            "customerId": "no-such-customer",
            "code": "CUSTOMER_NOT_FOUND",
            "message": "no customer no-such-customer",
        }
    ]
    assert [await balance(gql, customer) for customer in customers] == [50, 50, 50]


async def test_the_same_key_returns_the_same_job_and_awards_nothing_twice(
    gql: GraphQLClient,
) -> None:
    customer = (await enroll(gql, email="once@example.com"))["id"]
    input_ = {"idempotencyKey": "k", "customerIds": [customer], "points": 10, "reason": "Hi"}

    first = await start(gql, **input_)
    await finished(gql, first["bulkAward"]["id"])
    again = await start(gql, **input_)
    reused = await start(gql, **{**input_, "points": 11})

    assert again["bulkAward"]["id"] == first["bulkAward"]["id"]
    assert [e["code"] for e in reused["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert await balance(gql, customer) == 10


async def test_bad_bulk_award_input_is_refused_and_starts_no_job(gql: GraphQLClient) -> None:
    customer = (await enroll(gql, email="bad@example.com"))["id"]
    good = {"idempotencyKey": "bad", "customerIds": [customer], "points": 10, "reason": "x"}
    cases = {
        "customerIds": {**good, "customerIds": []},
        "points": {**good, "points": 0},
        "reason": {**good, "reason": "  "},
    }
    for field, input_ in cases.items():
        payload = await start(gql, **input_)
        assert payload["bulkAward"] is None
        assert payload["userErrors"][0]["code"] == "INVALID_INPUT"
        assert payload["userErrors"][0]["field"] == ["input", field]
    negative = await start(gql, **{**good, "points": -5})
    assert negative["userErrors"][0]["field"] == ["input", "points"]
    assert await balance(gql, customer) == 0
