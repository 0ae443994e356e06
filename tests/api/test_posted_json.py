"""A JSON POST of one operation, a till's every request, goes the view's short way and is
answered as Strawberry's own way answers it; any other request goes Strawberry's way."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.view import LoyaltyGraphQL

STORES = "{ stores { id } }"
INT_VARIABLE = (
    'query($n: Int) { customer(lookup: {id: \\"c\\"}) { transactions(first: $n) { pageInfo '
    "{ hasNextPage } } } }"
)


@pytest.fixture
def strawberrys_way(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The requests Strawberry's own view answered (by method and content type)."""
    answered: list[str] = []
    run = LoyaltyGraphQL.run

    async def counted(self: LoyaltyGraphQL, request: Any, *args: Any, **kwargs: Any) -> Any:
        answered.append(f"{request.method} {request.headers.get('content-type')}")
        return await run(self, request, *args, **kwargs)

    monkeypatch.setattr(LoyaltyGraphQL, "run", counted)
    return answered


async def test_a_json_post_of_one_operation_goes_the_short_way(
    client: httpx.AsyncClient, strawberrys_way: list[str]
) -> None:
    plain = await client.post("/graphql", json={"query": STORES})
    spelt = await client.post(
        "/graphql",
        content=b'{"query": "{ stores { id } }"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )

    assert plain.json() == spelt.json() == {"data": {"stores": []}}
    assert plain.headers["content-type"] == "application/json"
    assert strawberrys_way == []


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'[{"query": "{ stores { id } }"}]', "application/json", 400),
        (b'{"query": "{ stores { id } }"}', "text/plain", 400),
        (b'{"query": 7}', "application/json", 400),
        (b'{"query": "{ stores { id } }"}', "Application/JSON", 400),
    ],
    ids=["batch", "text", "query-not-text", "upper-case-type"],
)
async def test_any_other_post_goes_strawberrys_way(
    client: httpx.AsyncClient,
    strawberrys_way: list[str],
    body: bytes,
    content_type: str,
    status: int,
) -> None:
    response = await client.post("/graphql", content=body, headers={"content-type": content_type})

    assert response.status_code == status, response.text
    assert strawberrys_way == [f"POST {content_type}"]


async def test_a_long_integer_in_the_variables_is_read_exactly(
    client: httpx.AsyncClient,
) -> None:
    digits = "123456789012345678901234567890"
    body = f'{{"query": "{INT_VARIABLE}", "variables": {{"n": {digits}}}}}'.encode()

    response = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 200
    assert digits in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    "text",
    ['"a\\u0000b"', '"\\ud800"', "NaN"],
    ids=["nul", "lone-surrogate", "not-a-number"],
)
async def test_json_the_short_way_reads_as_the_standard_library_did(
    client: httpx.AsyncClient, strawberrys_way: list[str], text: str
) -> None:
    body = f'{{"query": "{STORES}", "variables": {{"v": {text}}}}}'.encode()
    headers = {"content-type": "application/json"}

    short = await client.post("/graphql", content=body, headers=headers)
    strawberry = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json; charset=UTF-8"}
    )

    assert (short.status_code, short.text) == (strawberry.status_code, strawberry.text)
    assert strawberrys_way == ["POST application/json; charset=UTF-8"]
