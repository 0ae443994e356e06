"""Enrolment, lookup by every identifier, and the store register, over HTTP."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest

from tests.conftest import GraphQLClient
from tests.operations import CREATE_STORE, ENROLL, LOOKUP, create_store, enroll

STORES = "query { stores { id name } }"


async def lookup(gql: GraphQLClient, **identifier: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (await gql.data(LOOKUP, {"lookup": identifier}))["customer"]
    return found


async def enroll_payload(gql: GraphQLClient, **input_: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql.data(ENROLL, {"input": input_}))["enrollCustomer"]
    return payload


async def create_store_payload(gql: GraphQLClient, store_id: str, name: str) -> dict[str, Any]:
    result = await gql.data(CREATE_STORE, {"input": {"id": store_id, "name": name}})
    payload: dict[str, Any] = result["createStore"]
    return payload


async def store_list(gql: GraphQLClient) -> list[dict[str, Any]]:
    stores: list[dict[str, Any]] = (await gql.data(STORES))["stores"]
    return stores


def has_offset(instant: str) -> bool:
    return datetime.fromisoformat(instant).utcoffset() is not None


async def test_a_new_customer_starts_with_no_points_and_an_aware_enrolment_time(
    gql: GraphQLClient,
) -> None:
    customer = await enroll(gql, email="new@example.com", name="New")

    assert customer["balance"] == 0
    assert customer["balanceVersion"] == 0
    assert customer["lifetimeEarned"] == 0
    assert has_offset(customer["enrolledAt"]), customer["enrolledAt"]
    stored = await lookup(gql, id=customer["id"])
    assert stored is not None
    assert has_offset(stored["enrolledAt"]), stored["enrolledAt"]
    assert datetime.fromisoformat(stored["enrolledAt"]) == datetime.fromisoformat(
        customer["enrolledAt"]
    )


async def test_customer_is_found_by_id(gql: GraphQLClient) -> None:
    customer = await enroll(gql, email="ada@example.com")
    await enroll(gql, email="grace@example.com")

    found = await lookup(gql, id=customer["id"])

    assert found is not None
    assert found["id"] == customer["id"]
    assert found["email"] == "ada@example.com"


async def test_customer_is_found_by_external_id(gql: GraphQLClient) -> None:
    customer = await enroll(gql, externalId="CRM-1912")
    await enroll(gql, externalId="CRM-1913")

    found = await lookup(gql, externalId="CRM-1912")

    assert found is not None
    assert found["id"] == customer["id"]


async def test_customer_is_found_by_email_in_any_case(gql: GraphQLClient) -> None:
    customer = await enroll(gql, email="Ada@Example.com")
    await enroll(gql, email="grace@example.com")

    found = await lookup(gql, email="ada@EXAMPLE.com")

    assert found is not None
    assert found["id"] == customer["id"]


@pytest.mark.parametrize("typed", ["+442079460018", "0044 20 7946 0018", "+44 20 7946 0018"])
async def test_customer_is_found_by_phone_however_it_is_typed(
    gql: GraphQLClient, typed: str
) -> None:
    customer = await enroll(gql, phone="+44 20 7946 0018")
    await enroll(gql, phone="+44 20 7946 0019")

    found = await lookup(gql, phone=typed)

    assert found is not None
    assert found["id"] == customer["id"]


@pytest.mark.parametrize("typed", ["6001-0000-0000-0001", "6001000000000001"])
async def test_customer_is_found_by_card_number_with_or_without_separators(
    gql: GraphQLClient, typed: str
) -> None:
    customer = await enroll(gql, cardNumber="6001 0000 0000 0001")
    await enroll(gql, cardNumber="6001 0000 0000 0002")

    found = await lookup(gql, cardNumber=typed)

    assert found is not None
    assert found["id"] == customer["id"]


@pytest.mark.parametrize(
    "identifier",
    [
        {"id": str(uuid.uuid4())},
        {"externalId": "CRM-0000"},
        {"email": "nobody@example.com"},
        {"phone": "+44 20 7946 0999"},
        {"cardNumber": "6001 0000 0000 0999"},
    ],
)
async def test_lookup_is_null_when_no_customer_matches(
    gql: GraphQLClient, identifier: dict[str, str]
) -> None:
    await enroll(
        gql,
        externalId="CRM-1912",
        email="ada@example.com",
        phone="+44 20 7946 0018",
        cardNumber="6001 0000 0000 0001",
    )

    assert await lookup(gql, **identifier) is None


@pytest.mark.parametrize(
    ("field", "first", "second"),
    [
        ("email", "Ada@Example.com", "ada@EXAMPLE.COM"),
        ("phone", "+44 20 7946 0018", "0044 20 7946 0018"),
        ("cardNumber", "6001 0000 0000 0001", "6001-0000-0000-0001"),
        ("externalId", "CRM-1912", "CRM-1912"),
    ],
)
async def test_enrolment_refuses_an_identifier_another_customer_has(
    gql: GraphQLClient, field: str, first: str, second: str
) -> None:
    await enroll(gql, **{field: first})
    # A fresh identifier alongside the taken one shows whether anything was created.
    fresh_field, fresh_value = (
        ("externalId", "CRM-NEW") if field != "externalId" else ("email", "new@example.com")
    )

    payload = await enroll_payload(gql, **{field: second, fresh_field: fresh_value})

    assert payload["customer"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("DUPLICATE_CUSTOMER", ["input", field])
    ]
    assert await lookup(gql, **{fresh_field: fresh_value}) is None


@pytest.mark.parametrize(
    "input_",
    [{}, {"name": "Nobody"}, {"name": "Blank", "email": "  ", "phone": "", "cardNumber": " "}],
)
async def test_enrolment_without_any_identifier_is_invalid_input(
    gql: GraphQLClient, input_: dict[str, str]
) -> None:
    payload = await enroll_payload(gql, **input_)

    assert payload["customer"] is None
    assert [e["code"] for e in payload["userErrors"]] == ["INVALID_INPUT"]


@pytest.mark.parametrize(
    "identifiers",
    [{}, {"email": "ada@example.com", "phone": "+44 20 7946 0018"}],
    ids=["none", "two"],
)
async def test_lookup_needs_exactly_one_identifier(
    gql: GraphQLClient, identifiers: dict[str, str]
) -> None:
    await enroll(gql, email="ada@example.com", phone="+44 20 7946 0018")

    body = await gql.raw(LOOKUP, {"lookup": identifiers})

    assert body["data"]["customer"] is None
    assert [error.get("extensions", {}).get("code") for error in body["errors"]] == [
        "INVALID_INPUT"
    ]


async def test_create_store_returns_the_store(gql: GraphQLClient) -> None:
    payload = await create_store_payload(gql, "S001", "Main Street")

    assert payload == {"store": {"id": "S001", "name": "Main Street"}, "userErrors": []}


async def test_create_store_refuses_a_store_id_that_exists(gql: GraphQLClient) -> None:
    await create_store(gql, "S001", "Main Street")

    payload = await create_store_payload(gql, "S001", "Harbour Front")

    assert payload["store"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("DUPLICATE_STORE", ["input", "id"])
    ]
    assert await store_list(gql) == [{"id": "S001", "name": "Main Street"}]


@pytest.mark.parametrize("store_id", ["has space", "", "-leading-dash", "x" * 33, "S/1"])
async def test_create_store_refuses_a_malformed_store_code(
    gql: GraphQLClient, store_id: str
) -> None:
    payload = await create_store_payload(gql, store_id, "Somewhere")

    assert payload["store"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID_INPUT", ["input", "id"])
    ]
    assert await store_list(gql) == []


async def test_stores_are_listed_in_id_order(gql: GraphQLClient) -> None:
    for store_id, name in [("S002", "Harbour"), ("S003", "Airport"), ("S001", "Main")]:
        await create_store(gql, store_id, name)

    assert await store_list(gql) == [
        {"id": "S001", "name": "Main"},
        {"id": "S002", "name": "Harbour"},
        {"id": "S003", "name": "Airport"},
    ]
