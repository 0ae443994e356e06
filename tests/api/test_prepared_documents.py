"""A document sent again runs without being prepared again, and answers as the first time:
data for its own variables, errors coded, masked and logged alike, the same refusals."""

from __future__ import annotations

import logging
from typing import Any, NoReturn

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.extensions import MaskErrors

from api.limits import document_limits
from api.prepared import PREPARING_EXTENSIONS, RememberPrepared
from api.schema import LoyaltySchema, build_schema
from api.settings import Settings
from tests.conftest import GraphQLClient
from tests.operations import LOOKUP, create_store, earn, enroll, line

BALANCE = "query($id: ID!) { customer(lookup: {id: $id}) { id balance balanceVersion } }"
SECRET = "secret SQL detail: SELECT password FROM customers"
TWO_OPERATIONS = """
query Stores { stores { id } }
query Balance($id: ID!) { customer(lookup: {id: $id}) { balance } }"""


def schema_of(app: Starlette) -> LoyaltySchema:
    (route,) = [r for r in app.routes if isinstance(r, Route) and r.path == "/graphql"]
    schema = getattr(route.endpoint, "schema", None)
    assert isinstance(schema, LoyaltySchema)
    return schema


async def twice(client: httpx.AsyncClient, body: dict[str, Any]) -> list[httpx.Response]:
    return [await client.post("/graphql", json=body) for _ in range(2)]


def boom(*_args: object, **_kwargs: object) -> NoReturn:
    raise RuntimeError(SECRET)


async def test_a_document_sent_again_is_prepared_and_answers_for_its_own_variables(
    app: Starlette, gql: GraphQLClient
) -> None:
    await create_store(gql)
    ada = (await enroll(gql, email="ada@example.com"))["id"]
    bob = (await enroll(gql, email="bob@example.com"))["id"]
    await earn(gql, bob, "sale", [line("10.00")])

    first = await gql.data(BALANCE, {"id": ada})
    prepared = schema_of(app).prepared.get(BALANCE)
    second = await gql.data(BALANCE, {"id": bob})
    third = await gql.data(BALANCE, {"id": ada})

    assert prepared is not None
    assert first == third == {"customer": {"id": ada, "balance": 0, "balanceVersion": 0}}
    assert second == {"customer": {"id": bob, "balance": 10, "balanceVersion": 1}}


async def test_an_unexpected_error_is_masked_and_logged_when_the_document_is_prepared(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await enroll(gql, email="ada@example.com")
    monkeypatch.setattr("api.customers.resolvers.customer_by", boom)
    caplog.set_level(logging.ERROR)

    first, second = await twice(
        client, {"query": LOOKUP, "variables": {"lookup": {"email": "ada@example.com"}}}
    )

    assert first.json() == second.json()
    assert second.json()["errors"][0]["message"] == "Unexpected error."
    assert SECRET not in second.text
    logged = [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], RuntimeError)]
    assert len(logged) == 2


async def test_a_domain_error_of_a_query_keeps_its_code_and_field_when_prepared(
    client: httpx.AsyncClient,
) -> None:
    both = {"email": "ada@example.com", "phone": "+442071838750"}

    first, second = await twice(client, {"query": LOOKUP, "variables": {"lookup": both}})

    assert first.json() == second.json()
    (error,) = second.json()["errors"]
    assert error["extensions"] == {"code": "INVALID_INPUT", "field": ["lookup"]}


async def test_variables_of_the_wrong_shape_are_refused_alike_when_prepared(
    client: httpx.AsyncClient,
) -> None:
    wrong = {"query": LOOKUP, "variables": {"lookup": {"emial": "ada@example.com"}}}

    first, second = await twice(client, wrong)

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert "emial" in second.json()["errors"][0]["message"]


async def test_the_operation_named_runs_and_an_unknown_name_is_a_400_when_prepared(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    ada = (await enroll(gql, email="ada@example.com"))["id"]
    stores = {"query": TWO_OPERATIONS, "operationName": "Stores"}
    balance = {"query": TWO_OPERATIONS, "operationName": "Balance", "variables": {"id": ada}}
    unknown = {"query": TWO_OPERATIONS, "operationName": "Nope"}

    answers = [(await client.post("/graphql", json=body)) for body in (stores, balance) * 2]
    refused = await twice(client, unknown)

    assert [answer.json()["data"] for answer in answers] == [
        {"stores": []},
        {"customer": {"balance": 0}},
    ] * 2
    assert [response.status_code for response in refused] == [400, 400]
    assert refused[0].text == refused[1].text


async def test_a_prepared_mutation_is_still_refused_over_get(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    await create_store(gql, "S1")
    create = 'mutation { createStore(input: {id: "S2", name: "Two"}) { userErrors { code } } }'
    await gql.data(create)

    over_get = await client.get("/graphql", params={"query": create})

    assert over_get.status_code == 400
    assert "mutations are not allowed when using GET" in over_get.text


async def test_a_subscription_posted_is_refused_every_time(client: httpx.AsyncClient) -> None:
    subscription = 'subscription { balanceChanged(customerId: "c") { balanceVersion } }'

    refused = await twice(client, {"query": subscription})

    assert [response.status_code for response in refused] == [400, 400]
    assert refused[0].text == refused[1].text


async def test_an_invalid_document_is_never_prepared(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    invalid = "{ stores { id nope } }"

    first, second = await twice(client, {"query": invalid})

    assert first.json() == second.json()
    assert "nope" in second.json()["errors"][0]["message"]
    assert schema_of(app).prepared.get(invalid) is None


async def test_a_document_past_a_limit_is_refused_every_time(
    app: Starlette, client: httpx.AsyncClient, settings: Settings
) -> None:
    aliases = " ".join(f"a{n}: stores {{ id }}" for n in range(settings.max_aliases + 1))
    too_many = f"{{ {aliases} }}"

    first, second = await twice(client, {"query": too_many})

    assert first.json() == second.json()
    assert second.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert schema_of(app).prepared.get(too_many) is None


@pytest.mark.parametrize("env", ["development", "production"])
def test_every_extension_of_the_schema_is_one_a_prepared_document_may_skip(
    env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A prepared document runs without the schema's extensions: each must only prepare
    documents (PREPARING_EXTENSIONS), or mask errors (which the prepared path does), or
    remember what was prepared. A new extension, or an operation directive, fails this
    until that is thought through."""
    monkeypatch.setenv("LOYALTY_AUTH_SECRET", "x" * 32)
    settings = Settings(env=env)
    schema = build_schema(settings)

    extensions = [factory() for factory in schema.extensions]

    skippable = (*PREPARING_EXTENSIONS, MaskErrors, RememberPrepared)
    assert all(isinstance(extension, skippable) for extension in extensions), extensions
    assert len(extensions) == len(document_limits(settings)) + 2
    # Operation directives would add Strawberry's directives extension, a resolve() the
    # prepared path would skip.
    assert not schema.directives
