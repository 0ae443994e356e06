"""A customer's history: newest first, as sent by the till, walked page by page."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.conftest import GraphQLClient
from tests.operations import HISTORY, create_store, earn, enroll, line, redeem

SALES = 5


async def customer_with_sales(gql: GraphQLClient) -> str:
    """A customer with SALES earn entries, R-1 oldest, each from its own terminal."""
    await create_store(gql, "S1")
    await create_store(gql, "S2")
    customer_id: str = (await enroll(gql, email="ada@example.com"))["id"]
    for number in range(1, SALES + 1):
        payload = await earn(
            gql,
            customer_id,
            f"sale-{number}",
            [line(f"{number}.00")],
            store_id=f"S{number % 2 + 1}",
            terminalId=f"T{number}",
            saleId=f"R-{number}",
        )
        assert payload["userErrors"] == []
    return customer_id


async def history_page(
    gql: GraphQLClient, customer_id: str, first: int | None = None, after: str | None = None
) -> dict[str, Any]:
    variables = {"lookup": {"id": customer_id}, "first": first, "after": after}
    page: dict[str, Any] = (await gql.data(HISTORY, variables))["customer"]["transactions"]
    return page


async def history_error_codes(gql: GraphQLClient, **arguments: Any) -> list[str]:
    customer_id = await customer_with_sales(gql)
    body = await gql.raw(HISTORY, {"lookup": {"id": customer_id}, **arguments})
    assert body["data"]["customer"] is None
    return [error.get("extensions", {}).get("code") for error in body["errors"]]


async def test_history_lists_the_newest_transaction_first(gql: GraphQLClient) -> None:
    customer_id = await customer_with_sales(gql)
    assert (await redeem(gql, customer_id, "spend", 3, terminalId="T9"))["userErrors"] == []

    nodes = [edge["node"] for edge in (await history_page(gql, customer_id))["edges"]]

    assert [(node["kind"], node["points"]) for node in nodes] == [
        ("REDEEM", -3),
        ("EARN", 5),
        ("EARN", 4),
        ("EARN", 3),
        ("EARN", 2),
        ("EARN", 1),
    ]
    assert [node["balanceAfter"] for node in nodes] == [12, 15, 10, 6, 3, 1]


async def test_each_transaction_carries_the_store_terminal_and_sale_it_was_sent_with(
    gql: GraphQLClient,
) -> None:
    customer_id = await customer_with_sales(gql)

    nodes = [edge["node"] for edge in (await history_page(gql, customer_id))["edges"]]

    assert [(node["storeId"], node["terminalId"], node["saleId"]) for node in nodes] == [
        (f"S{number % 2 + 1}", f"T{number}", f"R-{number}") for number in range(SALES, 0, -1)
    ]


async def test_pages_of_two_walk_the_whole_history_in_order_once(gql: GraphQLClient) -> None:
    customer_id = await customer_with_sales(gql)
    sale_ids: list[str] = []
    more_after: list[bool] = []
    after: str | None = None

    for _ in range(SALES):
        page = await history_page(gql, customer_id, first=2, after=after)
        assert 1 <= len(page["edges"]) <= 2
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        sale_ids += [edge["node"]["saleId"] for edge in page["edges"]]
        more_after.append(page["pageInfo"]["hasNextPage"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert sale_ids == ["R-5", "R-4", "R-3", "R-2", "R-1"]
    assert more_after == [True, True, False]


async def test_a_page_that_ends_the_history_exactly_says_there_is_no_next_page(
    gql: GraphQLClient,
) -> None:
    customer_id = await customer_with_sales(gql)
    first_page = await history_page(gql, customer_id, first=SALES - 1)

    last_page = await history_page(
        gql, customer_id, first=1, after=first_page["pageInfo"]["endCursor"]
    )

    assert first_page["pageInfo"]["hasNextPage"] is True
    assert [edge["node"]["saleId"] for edge in last_page["edges"]] == ["R-1"]
    assert last_page["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("first", [101, 1000, -1])
async def test_history_refuses_a_page_size_outside_0_to_100(gql: GraphQLClient, first: int) -> None:
    assert await history_error_codes(gql, first=first) == ["INVALID_INPUT"]


def encoded(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "after",
    [
        "garbage",
        "not a cursor!",
        encoded("txn:abc"),
        encoded("other:12"),
        encoded("txn:-1"),
        base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),
        encoded("txn:\u00b2"),
        encoded("txn:" + "9" * 30),
    ],
    ids=[
        "plain-text",
        "not-base64",
        "non-numeric-id",
        "wrong-prefix",
        "negative-id",
        "not-utf8",
        "superscript-digit",
        "id-beyond-64-bits",
    ],
)
async def test_history_refuses_a_cursor_it_did_not_issue(gql: GraphQLClient, after: str) -> None:
    assert await history_error_codes(gql, first=2, after=after) == ["INVALID_INPUT"]
