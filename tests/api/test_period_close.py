"""Closing the books: after closePeriod nothing may be recorded with a time before its end
(a late offline sale or redemption is refused and changes nothing); closing only moves
forward; reopenPeriod moves it back; every change is kept with who made it and why; and a
close waits for the movements in flight."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text

from persistence.database import Database
from persistence.models import JournalEntryRow, PeriodChangeRow, SaleRow
from tests.conftest import GraphQLClient
from tests.operations import create_store, earn, enroll, line, redeem

CLOSE = """
mutation($input: ClosePeriodInput!) {
  closePeriod(input: $input) { closedUntil userErrors { code message field } }
}"""
REOPEN = """
mutation($input: ReopenPeriodInput!) {
  reopenPeriod(input: $input) { closedUntil userErrors { code message field } }
}"""


def iso(when: datetime) -> str:
    return when.isoformat()


async def close(gql: GraphQLClient, until: datetime, reason: str = "November") -> dict[str, Any]:
    payload: dict[str, Any] = (
        await gql.data(CLOSE, {"input": {"until": iso(until), "reason": reason}})
    )["closePeriod"]
    return payload


async def reopen(gql: GraphQLClient, since: datetime, reason: str = "late") -> dict[str, Any]:
    payload: dict[str, Any] = (
        await gql.data(REOPEN, {"input": {"from": iso(since), "reason": reason}})
    )["reopenPeriod"]
    return payload


async def counts(database: Database) -> tuple[int, int]:
    async with database.reading() as session:
        entries = await session.scalar(select(func.count()).select_from(JournalEntryRow))
        sales = await session.scalar(select(func.count()).select_from(SaleRow))
    return int(entries or 0), int(sales or 0)


@pytest.fixture
async def customer(gql: GraphQLClient) -> str:
    await create_store(gql)
    found: str = (await enroll(gql, email="books@example.com"))["id"]
    await earn(gql, found, "before-any-close", [line("50.00")])
    return found


async def test_a_late_sale_dated_in_a_closed_period_is_refused_and_changes_nothing(
    gql: GraphQLClient, database: Database, customer: str
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    until = now - timedelta(hours=2)
    closed = await close(gql, until)
    before = await counts(database)

    late = await earn(
        gql, customer, "late-sale", [line("10.00")], occurredAt=iso(until - timedelta(seconds=1))
    )
    spent = await redeem(gql, customer, "late-spend", 5, occurredAt=iso(until - timedelta(hours=1)))

    assert closed == {"closedUntil": iso(until), "userErrors": []}
    for refused in (late, spent):
        [error] = refused["userErrors"]
        assert error["code"] == "INVALID_INPUT"
        assert error["field"] == ["input", "occurredAt"]
        assert "the period is closed" in error["message"]
        assert iso(until) in error["message"]
    assert await counts(database) == before


async def test_a_sale_at_or_after_the_end_of_the_closed_period_is_recorded(
    gql: GraphQLClient, customer: str
) -> None:
    until = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    await close(gql, until)

    at_the_end = await earn(gql, customer, "at-end", [line("10.00")], occurredAt=iso(until))
    now = await earn(gql, customer, "now", [line("10.00")])

    assert at_the_end["userErrors"] == now["userErrors"] == []


async def test_a_retry_after_reopening_is_recorded_once(
    gql: GraphQLClient, database: Database, customer: str
) -> None:
    until = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    late_time = iso(until - timedelta(minutes=30))
    await close(gql, until)
    refused = await earn(gql, customer, "late-key", [line("10.00")], occurredAt=late_time)

    reopened = await reopen(gql, until - timedelta(hours=1), "a till was offline")
    first = await earn(gql, customer, "late-key", [line("10.00")], occurredAt=late_time)
    again = await earn(gql, customer, "late-key", [line("10.00")], occurredAt=late_time)

    assert refused["userErrors"][0]["code"] == "INVALID_INPUT"
    assert reopened == {"closedUntil": iso(until - timedelta(hours=1)), "userErrors": []}
    assert first["userErrors"] == []
    assert again["transaction"]["id"] == first["transaction"]["id"]
    assert await counts(database) == (2, 2)


@pytest.mark.parametrize(
    ("until", "field"),
    [(timedelta(minutes=5), "until"), (-timedelta(days=2), "until")],
    ids=["in-the-future", "before-the-current-close"],
)
async def test_closing_never_moves_back_nor_into_the_future(
    gql: GraphQLClient, database: Database, until: timedelta, field: str
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    await close(gql, now - timedelta(days=1))

    refused = await close(gql, now + until)

    [error] = refused["userErrors"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", ["input", field])
    assert refused["closedUntil"] is None
    async with database.reading() as session:
        assert await session.scalar(select(func.count()).select_from(PeriodChangeRow)) == 1


async def test_reopening_needs_something_closed_after_the_moment_and_a_reason(
    gql: GraphQLClient,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    nothing_closed = await reopen(gql, now - timedelta(days=3))
    await close(gql, now - timedelta(days=1))
    open_already = await reopen(gql, now - timedelta(hours=1))
    no_reason = await reopen(gql, now - timedelta(days=2), "   ")

    assert nothing_closed["userErrors"][0]["field"] == ["input", "from"]
    assert open_already["userErrors"][0]["field"] == ["input", "from"]
    assert no_reason["userErrors"][0]["field"] == ["input", "reason"]


async def test_every_close_and_reopen_is_kept_with_who_when_and_why(
    gql: GraphQLClient, database: Database
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    await close(gql, now - timedelta(days=2), "October books")
    await close(gql, now - timedelta(days=1), "November books")
    await reopen(gql, now - timedelta(days=3), "correcting a refund")

    async with database.reading() as session:
        rows = list(await session.scalars(select(PeriodChangeRow).order_by(PeriodChangeRow.id)))

    assert [(r.action, r.closed_until, r.previous, r.reason) for r in rows] == [
        ("CLOSE", now - timedelta(days=2), None, "October books"),
        ("CLOSE", now - timedelta(days=1), now - timedelta(days=2), "November books"),
        ("REOPEN", now - timedelta(days=3), now - timedelta(days=1), "correcting a refund"),
    ]
    assert {(r.changed_by_staff, r.changed_by_role) for r in rows} == {("admin-1", "admin")}
    assert all(now - timedelta(minutes=1) < r.at <= datetime.now(UTC) for r in rows)


async def test_a_close_waits_for_the_movement_in_flight(
    gql: GraphQLClient, database: Database, customer: str
) -> None:
    """A movement holding its customer's lock (on SQLite: the one writer's) commits before
    the close takes effect."""
    locked = "" if database.is_sqlite else " FOR UPDATE"
    async with database.write_sessions() as in_flight, in_flight.begin():
        await in_flight.execute(
            text(f"SELECT id FROM customers WHERE id = :id{locked}"), {"id": customer}
        )
        closing = asyncio.create_task(close(gql, datetime.now(UTC) - timedelta(minutes=1)))
        await asyncio.sleep(0.5)
        assert not closing.done()
    closed = await asyncio.wait_for(closing, timeout=10)

    assert closed["userErrors"] == []
