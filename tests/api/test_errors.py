"""Refusals are data with a stable code and a field path; the unexpected is masked."""

from __future__ import annotations

import logging
import uuid
from typing import Any, NoReturn

import httpx
import pytest

from tests.conftest import GraphQLClient
from tests.operations import EARN, LOOKUP, REDEEM, create_store, earn, enroll, line

SECRET = "secret SQL detail: SELECT password FROM customers WHERE id = 42"
LEAKS = ("secret", "Traceback", "RuntimeError", "SELECT")

STATE = """
query($id: ID!) {
  customer(lookup: {id: $id}) {
    balance balanceVersion lifetimeEarned
    transactions(first: 100) { edges { node { id points } } }
  }
}"""


async def customer_with_points(gql: GraphQLClient) -> str:
    """Store S1 and a customer holding 10 points from one sale: something to leave alone."""
    await create_store(gql)
    customer_id: str = (await enroll(gql, email="ada@example.com"))["id"]
    assert (await earn(gql, customer_id, "first-sale", [line("10.00")]))["userErrors"] == []
    return customer_id


async def state(gql: GraphQLClient, customer_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await gql.data(STATE, {"id": customer_id}))["customer"]
    return found


async def assert_unchanged(gql: GraphQLClient, customer_id: str) -> None:
    after = await state(gql, customer_id)
    assert after["balance"] == 10
    assert after["balanceVersion"] == 1
    assert after["lifetimeEarned"] == 10
    assert [edge["node"]["points"] for edge in after["transactions"]["edges"]] == [10]


def refusals(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(error["code"], error["field"]) for error in payload["userErrors"]]


async def earn_payload(gql: GraphQLClient, **input_: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql.data(EARN, {"input": input_}))["earnPoints"]
    return payload


async def redeem_payload(gql: GraphQLClient, **input_: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql.data(REDEEM, {"input": input_}))["redeemPoints"]
    return payload


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": [line(quantity=-1)]}, ["input", "lines", "0", "quantity"]),
        ({"lines": [line(quantity=0)]}, ["input", "lines", "0", "quantity"]),
        ({"lines": [line(unit_price="12.5x")]}, ["input", "lines", "0", "unitPrice"]),
        ({"lines": [{**line(), "unitPrice": 12.5}]}, ["input", "lines", "0", "unitPrice"]),
        ({"lines": [line(), line(unit_price="-1.00")]}, ["input", "lines", "1", "unitPrice"]),
        ({"storeId": "NOPE"}, ["input", "storeId"]),
        ({"lines": []}, ["input", "lines"]),
    ],
    ids=[
        "negative-quantity",
        "zero-quantity",
        "malformed-price",
        "float-price",
        "negative-price-on-second-line",
        "unknown-store",
        "no-lines",
    ],
)
async def test_earn_refuses_bad_input_with_its_field_and_changes_nothing(
    gql: GraphQLClient, change: dict[str, Any], field: list[str]
) -> None:
    customer_id = await customer_with_points(gql)
    input_: dict[str, Any] = {
        "customerId": customer_id,
        "idempotencyKey": "bad-sale",
        "storeId": "S1",
        "lines": [line()],
        **change,
    }

    payload = await earn_payload(gql, **input_)

    assert payload["transaction"] is None
    assert refusals(payload) == [("INVALID_INPUT", field)]
    await assert_unchanged(gql, customer_id)


async def test_earn_for_an_unknown_customer_is_customer_not_found(gql: GraphQLClient) -> None:
    customer_id = await customer_with_points(gql)
    stranger = str(uuid.uuid4())

    payload = await earn(gql, stranger, "stranger-sale")

    assert payload["transaction"] is None
    assert refusals(payload) == [("CUSTOMER_NOT_FOUND", ["input", "customerId"])]
    await assert_unchanged(gql, customer_id)


async def test_redeem_for_an_unknown_customer_is_customer_not_found(gql: GraphQLClient) -> None:
    customer_id = await customer_with_points(gql)

    payload = await redeem_payload(
        gql, customerId=str(uuid.uuid4()), idempotencyKey="stranger", storeId="S1", points=5
    )

    assert payload["transaction"] is None
    assert refusals(payload) == [("CUSTOMER_NOT_FOUND", ["input", "customerId"])]
    await assert_unchanged(gql, customer_id)


@pytest.mark.parametrize(
    "choice",
    [
        {"rewardId": "COFFEE", "points": 5},
        {},
        {"points": 0},
        {"points": -5},
    ],
    ids=["reward-and-points", "neither", "zero-points", "negative-points"],
)
async def test_redeem_refuses_anything_but_one_reward_or_a_positive_number_of_points(
    gql: GraphQLClient, choice: dict[str, Any]
) -> None:
    customer_id = await customer_with_points(gql)

    payload = await redeem_payload(
        gql, customerId=customer_id, idempotencyKey="bad-redeem", storeId="S1", **choice
    )

    assert payload["transaction"] is None
    assert [code for code, _ in refusals(payload)] == ["INVALID_INPUT"]
    await assert_unchanged(gql, customer_id)


@pytest.mark.parametrize("points", [0, -5])
async def test_redeem_names_points_as_the_field_when_they_are_not_positive(
    gql: GraphQLClient, points: int
) -> None:
    customer_id = await customer_with_points(gql)

    payload = await redeem_payload(
        gql, customerId=customer_id, idempotencyKey="bad-redeem", storeId="S1", points=points
    )

    assert refusals(payload) == [("INVALID_INPUT", ["input", "points"])]


async def test_redeem_refuses_more_points_than_the_balance(gql: GraphQLClient) -> None:
    customer_id = await customer_with_points(gql)

    payload = await redeem_payload(
        gql, customerId=customer_id, idempotencyKey="too-much", storeId="S1", points=11
    )

    assert payload["transaction"] is None
    assert [code for code, _ in refusals(payload)] == ["INSUFFICIENT_POINTS"]
    await assert_unchanged(gql, customer_id)


async def test_redeem_of_an_unknown_reward_is_reward_not_found(gql: GraphQLClient) -> None:
    customer_id = await customer_with_points(gql)

    payload = await redeem_payload(
        gql, customerId=customer_id, idempotencyKey="no-such", storeId="S1", rewardId="NO-SUCH"
    )

    assert payload["transaction"] is None
    assert refusals(payload) == [("REWARD_NOT_FOUND", ["input", "rewardId"])]
    await assert_unchanged(gql, customer_id)


def boom(*_args: object, **_kwargs: object) -> NoReturn:
    raise RuntimeError(SECRET)


async def post(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "variables": variables})


def assert_masked(response: httpx.Response, caplog: pytest.LogCaptureFixture) -> None:
    assert response.status_code == 200, response.text
    assert [error["message"] for error in response.json()["errors"]] == ["Unexpected error."]
    for leak in LEAKS:
        assert leak not in response.text, response.text
    logged = [
        record
        for record in caplog.records
        if record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)
    ]
    assert logged, "the unexpected error was not logged with its exception"
    assert SECRET in caplog.text
    assert "Traceback" in caplog.text


async def test_an_unexpected_error_in_a_mutation_is_masked_and_logged(
    gql: GraphQLClient,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await create_store(gql)
    customer_id: str = (await enroll(gql, email="ada@example.com"))["id"]
    monkeypatch.setattr("api.points.resolvers.points.earn_points", boom)
    caplog.set_level(logging.ERROR)
    input_ = {"customerId": customer_id, "idempotencyKey": "k", "storeId": "S1", "lines": [line()]}

    response = await post(client, EARN, {"input": input_})

    assert_masked(response, caplog)


async def test_an_unexpected_error_in_a_query_is_masked_and_logged(
    gql: GraphQLClient,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await enroll(gql, email="ada@example.com")
    monkeypatch.setattr("api.customers.resolvers.customer_by", boom)
    caplog.set_level(logging.ERROR)

    response = await post(client, LOOKUP, {"lookup": {"email": "ada@example.com"}})

    assert_masked(response, caplog)
    assert response.json()["data"] == {"customer": None}


async def test_a_broken_document_is_a_graphql_error_not_a_server_error(
    client: httpx.AsyncClient,
) -> None:
    response = await post(client, "query { customer(lookup: {email: ", {})

    assert response.status_code in (200, 400), response.text
    errors = response.json()["errors"]
    assert errors
    assert "Syntax Error" in errors[0]["message"]
    for leak in ("Traceback", "Unexpected error."):
        assert leak not in response.text
