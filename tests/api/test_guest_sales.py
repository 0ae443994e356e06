"""recordGuestSale: a non-member's sale, recorded once under its key, with no points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from api.auth import Role
from api.settings import Settings
from persistence.database import Database
from persistence.models import GuestSaleRow, JournalEntryRow
from tests.conftest import GraphQLClient, mint
from tests.operations import USER_ERRORS, create_store, line

RECORD = f"""
mutation($input: RecordGuestSaleInput!) {{
  recordGuestSale(input: $input) {{
    guestSale {{ id storeId terminalId saleId total occurredAt recordedAt }}
    {USER_ERRORS}
  }}
}}"""


def sale(key: str = "guest-1", **extra: Any) -> dict[str, Any]:
    return {
        "idempotencyKey": key,
        "storeId": "S1",
        "terminalId": "T1",
        "saleId": "R-1001",
        "lines": [line("12.50", 2), line("3.25", sku="SKU-2", category="bakery")],
        **extra,
    }


async def record(gql: GraphQLClient, input_: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql.data(RECORD, {"input": input_}))["recordGuestSale"]
    return payload


async def guest_sales(database: Database) -> list[GuestSaleRow]:
    async with database.reading() as session:
        return list(await session.scalars(select(GuestSaleRow).order_by(GuestSaleRow.id)))


async def test_a_guest_sale_is_recorded_with_its_total_and_who_recorded_it(
    gql: GraphQLClient, database: Database, settings: Settings
) -> None:
    await create_store(gql)
    cashier = gql.with_token(mint(settings, Role.CASHIER, staff="cashier-7", terminal="T1"))

    recorded = await record(cashier, sale())
    rows = await guest_sales(database)
    async with database.reading() as session:
        entries = await session.scalar(select(func.count()).select_from(JournalEntryRow))

    assert recorded["userErrors"] == []
    guest = recorded["guestSale"]
    assert (guest["storeId"], guest["terminalId"], guest["saleId"], guest["total"]) == (
        "S1",
        "T1",
        "R-1001",
        "28.25",
    )
    assert guest["occurredAt"] == guest["recordedAt"]
    assert datetime.fromisoformat(guest["recordedAt"]).tzinfo is not None
    assert [str(row.id) for row in rows] == [guest["id"]]
    row = rows[0]
    assert (row.sale_ref, str(row.total.normalize())) == ("R-1001", "28.25")
    assert (row.recorded_by_staff, row.recorded_by_role, row.recorded_by_terminal) == (
        "cashier-7",
        "cashier",
        "T1",
    )
    assert entries == 0


async def test_a_retry_returns_the_first_guest_sale_and_records_nothing_more(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)

    first = await record(gql, sale())
    again = await record(gql, sale())

    assert again["userErrors"] == []
    assert again["guestSale"] == first["guestSale"]
    assert len(await guest_sales(database)) == 1


async def test_the_same_key_for_another_sale_is_refused(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    await record(gql, sale())

    other_lines = await record(gql, sale(lines=[line("1.00")]))
    other_sale = await record(gql, sale(saleId="R-2002"))

    for refused in (other_lines, other_sale):
        assert refused["guestSale"] is None
        assert refused["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
        assert refused["userErrors"][0]["field"] == ["input", "idempotencyKey"]
    assert len(await guest_sales(database)) == 1


async def test_a_guest_sale_the_till_dated_keeps_that_time(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)

    recorded = await record(gql, sale(occurredAt=an_hour_ago.isoformat()))
    retried = await record(gql, sale(occurredAt=an_hour_ago.isoformat()))
    redated = await record(gql, sale(occurredAt=(an_hour_ago - timedelta(minutes=5)).isoformat()))

    guest = recorded["guestSale"]
    assert datetime.fromisoformat(guest["occurredAt"]) == an_hour_ago
    assert datetime.fromisoformat(guest["recordedAt"]) > an_hour_ago
    assert retried["guestSale"] == guest
    assert [e["code"] for e in redated["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert len(await guest_sales(database)) == 1


async def test_a_guest_sale_dated_in_the_future_or_too_long_ago_is_refused(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    now = datetime.now(UTC)

    for when in (now + timedelta(hours=1), now - timedelta(days=30)):
        refused = await record(gql, sale(occurredAt=when.isoformat()))
        assert refused["guestSale"] is None
        assert refused["userErrors"][0]["code"] == "INVALID_INPUT"
        assert refused["userErrors"][0]["field"] == ["input", "occurredAt"]
    assert await guest_sales(database) == []


async def test_a_guest_sale_in_an_unknown_store_is_refused(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)

    refused = await record(gql, sale(storeId="NOPE"))

    assert refused["guestSale"] is None
    assert refused["userErrors"] == [
        {"code": "INVALID_INPUT", "message": "unknown store 'NOPE'", "field": ["input", "storeId"]}
    ]
    assert await guest_sales(database) == []


async def test_bad_lines_are_refused_as_earning_refuses_them(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    cases = {
        ("input", "lines"): [],
        ("input", "lines", "0", "quantity"): [line(quantity=0)],
        ("input", "lines", "1", "unitPrice"): [line(), line("ten")],
        ("input", "lines", "0", "sku"): [line(sku=" ")],
    }

    for field, lines in cases.items():
        refused = await record(gql, sale(f"bad-{len(field)}-{len(lines)}", lines=lines))
        assert refused["guestSale"] is None
        assert refused["userErrors"][0]["code"] == "INVALID_INPUT"
        assert tuple(refused["userErrors"][0]["field"]) == field
    assert await guest_sales(database) == []


async def test_a_display_may_not_record_and_a_cashier_only_in_its_stores(
    gql: GraphQLClient, database: Database, settings: Settings
) -> None:
    await create_store(gql)
    await create_store(gql, "S2", "Harbour")
    display = gql.with_token(mint(settings, Role.DISPLAY))
    cashier = gql.with_token(mint(settings, Role.CASHIER, stores=("S1",)))
    manager = gql.with_token(mint(settings, Role.MANAGER, stores=("S2",)))

    shown = await display.raw(RECORD, {"input": sale("display")})
    elsewhere = await record(cashier, sale("cashier-s2", storeId="S2"))
    at_home = await record(manager, sale("manager-s2", storeId="S2"))

    assert shown["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert shown["data"] is None or shown["data"]["recordGuestSale"] is None
    assert elsewhere["userErrors"][0]["code"] == "FORBIDDEN"
    assert elsewhere["userErrors"][0]["field"] == ["input", "storeId"]
    assert at_home["userErrors"] == []
    assert [row.idempotency_key for row in await guest_sales(database)] == ["manager-s2"]
