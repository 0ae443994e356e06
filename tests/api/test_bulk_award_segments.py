"""bulkAwardPoints to a segment: customers chosen by store, enrolment and inactivity, each
awarded once; a refused request leaves no job behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, update
from starlette.applications import Starlette

from api.app import create_app
from api.auth import Role
from api.settings import Settings
from persistence.database import Database
from persistence.models import (
    BulkAwardRecipientRow,
    BulkAwardRow,
    CustomerRow,
    JournalEntryRow,
    SaleRow,
)
from tests.conftest import GraphQLClient, mint
from tests.operations import USER_ERRORS, create_store, earn, enroll, line

BULK_AWARD = f"""
mutation($input: BulkAwardInput!) {{
  bulkAwardPoints(input: $input) {{
    bulkAward {{ id status totalCustomers awardedCustomers failedCustomers }}
    {USER_ERRORS}
  }}
}}"""


def at(year: int, month: int, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    """The app without its background worker: the tests run jobs when they choose."""
    app = create_app(settings.model_copy(update={"run_jobs": False}))
    async with app.router.lifespan_context(app):
        yield app


async def start(gql: GraphQLClient, segment: dict[str, Any], **input_: Any) -> dict[str, Any]:
    """bulkAwardPoints of 20 points to the segment, unless `input_` says otherwise."""
    full = {
        "idempotencyKey": "segment-award",
        "customerIds": [],
        "points": 20,
        "reason": "Segment promo",
        "segment": segment,
        **input_,
    }
    payload: dict[str, Any] = (await gql.data(BULK_AWARD, {"input": full}))["bulkAwardPoints"]
    return payload


async def awarded_to(app: Starlette, gql: GraphQLClient, segment: dict[str, Any]) -> list[str]:
    """Start the award, run it to the end, and return who was awarded (once each)."""
    started = await start(gql, segment)
    assert started["userErrors"] == [], started
    await app.state.services.worker.drain()
    total = started["bulkAward"]["totalCustomers"]
    database: Database = app.state.services.database
    awards = await award_entries(database)
    assert set(awards.values()) == {1}
    assert len(awards) == total
    return sorted(awards)


async def award_entries(database: Database) -> dict[str, int]:
    async with database.reading() as session:
        rows = await session.execute(
            select(JournalEntryRow.customer_id, func.count())
            .where(JournalEntryRow.kind == "BULK_AWARD", JournalEntryRow.points == 20)
            .group_by(JournalEntryRow.customer_id)
        )
        return {str(customer): int(count) for customer, count in rows.all()}


def refused(payload: dict[str, Any]) -> list[tuple[str, list[str]]]:
    assert payload["bulkAward"] is None
    return [(error["code"], error["field"]) for error in payload["userErrors"]]


async def nothing_recorded(database: Database) -> bool:
    async with database.reading() as session:
        jobs = await session.scalar(select(func.count()).select_from(BulkAwardRow))
        recipients = await session.scalar(select(func.count()).select_from(BulkAwardRecipientRow))
    return (jobs, recipients, await award_entries(database)) == (0, 0, {})


async def enrolled_at(database: Database, customer_id: str, when: datetime) -> None:
    async with database.writing() as session:
        await session.execute(
            update(CustomerRow).where(CustomerRow.id == customer_id).values(enrolled_at=when)
        )
        await session.commit()


async def sold(
    gql: GraphQLClient, database: Database, customer_id: str, store_id: str, when: datetime
) -> None:
    """A sale to the customer in the store, moved back to `when`."""
    earned = await earn(gql, customer_id, f"sale-{customer_id}-{when}", [line()], store_id)
    async with database.writing() as session:
        await session.execute(
            update(SaleRow)
            .where(SaleRow.journal_entry_id == int(earned["transaction"]["id"]))
            .values(occurred_at=when)
        )
        await session.commit()


async def people(gql: GraphQLClient, *names: str) -> dict[str, str]:
    await create_store(gql, "S1")
    await create_store(gql, "S2", "Harbour")
    return {name: (await enroll(gql, email=f"{name}@example.com"))["id"] for name in names}


async def test_a_segment_of_everyone_awards_every_customer_once(
    app: Starlette, gql: GraphQLClient
) -> None:
    ids = await people(gql, "ada", "bob", "cy")

    assert await awarded_to(app, gql, {"everyone": True}) == sorted(ids.values())


async def test_a_store_segment_awards_the_customers_with_a_sale_in_those_stores(
    app: Starlette, gql: GraphQLClient, database: Database
) -> None:
    ids = await people(gql, "north", "south", "both", "none")
    for name, store, when in [
        ("north", "S1", at(2026, 1)),
        ("north", "S1", at(2026, 2)),
        ("south", "S2", at(2026, 1)),
        ("both", "S1", at(2026, 1)),
        ("both", "S2", at(2026, 3)),
    ]:
        await sold(gql, database, ids[name], store, when)

    chosen = await awarded_to(app, gql, {"storeIds": ["S1"]})

    assert chosen == sorted([ids["north"], ids["both"]])


async def test_an_enrolment_window_includes_its_start_and_excludes_its_end(
    app: Starlette, gql: GraphQLClient, database: Database
) -> None:
    ids = await people(gql, "before", "first", "inside", "last")
    for name, when in [
        ("before", datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("first", at(2026, 1)),
        ("inside", at(2026, 2)),
        ("last", at(2026, 3)),
    ]:
        await enrolled_at(database, ids[name], when)

    chosen = await awarded_to(
        app,
        gql,
        {"enrolledFrom": "2026-01-01T01:00:00+01:00", "enrolledUntil": "2026-03-01T00:00:00Z"},
    )

    assert chosen == sorted([ids["first"], ids["inside"]])


async def test_inactive_since_chooses_customers_without_a_sale_since_then(
    app: Starlette, gql: GraphQLClient, database: Database
) -> None:
    ids = await people(gql, "lapsed", "regular", "never", "onthedot")
    await sold(gql, database, ids["lapsed"], "S1", at(2026, 5))
    await sold(gql, database, ids["regular"], "S1", at(2026, 5))
    await sold(gql, database, ids["regular"], "S2", at(2026, 10))
    await sold(gql, database, ids["onthedot"], "S1", at(2026, 9))

    chosen = await awarded_to(app, gql, {"inactiveSince": "2026-09-01T00:00:00Z"})

    assert chosen == sorted([ids["lapsed"], ids["never"]])


async def test_every_condition_of_a_segment_must_hold(
    app: Starlette, gql: GraphQLClient, database: Database
) -> None:
    ids = await people(gql, "match", "elsewhere", "newcomer", "recent")
    for name in ids:
        await enrolled_at(database, ids[name], at(2025, 6))
    await enrolled_at(database, ids["newcomer"], at(2026, 6))
    await sold(gql, database, ids["match"], "S1", at(2026, 2))
    await sold(gql, database, ids["elsewhere"], "S2", at(2026, 2))
    await sold(gql, database, ids["newcomer"], "S1", at(2026, 7))
    await sold(gql, database, ids["recent"], "S1", at(2026, 10))
    segment = {
        "storeIds": ["S1"],
        "enrolledUntil": "2026-01-01T00:00:00Z",
        "inactiveSince": "2026-09-01T00:00:00Z",
    }

    assert await awarded_to(app, gql, segment) == [ids["match"]]


async def test_a_segment_matching_nobody_is_refused_and_starts_no_job(
    gql: GraphQLClient, database: Database
) -> None:
    ids = await people(gql, "ada")
    await earn(gql, ids["ada"], "ada-sale", [line()], "S1")

    nobody = await start(gql, {"storeIds": ["S2"]})
    nothing_left = await nothing_recorded(database)
    retried = await start(gql, {"everyone": True})

    assert refused(nobody) == [("INVALID_INPUT", ["input", "segment"])]
    assert nothing_left
    assert retried["userErrors"] == []
    assert retried["bulkAward"]["totalCustomers"] == 1


async def test_customer_ids_and_a_segment_together_are_refused(
    gql: GraphQLClient, database: Database
) -> None:
    ids = await people(gql, "ada")

    both = await start(gql, {"everyone": True}, customerIds=[ids["ada"]])

    assert refused(both) == [("INVALID_INPUT", ["input", "customerIds"])]
    assert await nothing_recorded(database)


@pytest.mark.parametrize(
    ("segment", "field"),
    [
        ({}, ["input", "segment"]),
        ({"everyone": False}, ["input", "segment"]),
        ({"storeIds": []}, ["input", "segment"]),
        ({"everyone": True, "storeIds": ["S1"]}, ["input", "segment"]),
        (
            {"enrolledFrom": "2026-03-01T00:00:00Z", "enrolledUntil": "2026-03-01T00:00:00Z"},
            ["input", "segment", "enrolledUntil"],
        ),
        ({"inactiveSince": "2026-03-01T00:00:00"}, ["input", "segment", "inactiveSince"]),
    ],
)
async def test_a_segment_must_be_everyone_or_well_formed_conditions(
    gql: GraphQLClient, database: Database, segment: dict[str, Any], field: list[str]
) -> None:
    await people(gql, "ada")

    assert refused(await start(gql, segment)) == [("INVALID_INPUT", field)]
    assert await nothing_recorded(database)


async def test_a_manager_may_award_a_segment_of_its_own_stores(
    app: Starlette, gql: GraphQLClient, settings: Settings, database: Database
) -> None:
    ids = await people(gql, "ada", "bob")
    await sold(gql, database, ids["ada"], "S1", at(2026, 1))
    await sold(gql, database, ids["bob"], "S2", at(2026, 1))
    manager = gql.with_token(mint(settings, Role.MANAGER, stores=("S1",)))

    assert await awarded_to(app, manager, {"storeIds": ["S1"]}) == [ids["ada"]]


@pytest.mark.parametrize(
    "segment",
    [
        {"storeIds": ["S2"]},
        {"storeIds": ["S1", "S2"]},
        {"everyone": True},
        {"enrolledFrom": "2020-01-01T00:00:00Z"},
    ],
    ids=["another-store", "own-and-another-store", "everyone", "no-store"],
)
async def test_a_manager_segment_beyond_its_stores_is_forbidden(
    gql: GraphQLClient, settings: Settings, database: Database, segment: dict[str, Any]
) -> None:
    ids = await people(gql, "ada")
    await sold(gql, database, ids["ada"], "S2", at(2026, 1))
    manager = gql.with_token(mint(settings, Role.MANAGER, stores=("S1",)))

    assert refused(await start(manager, segment)) == [
        ("FORBIDDEN", ["input", "segment", "storeIds"])
    ]
    assert await nothing_recorded(database)


async def test_the_same_key_and_segment_return_the_same_job_and_another_segment_is_refused(
    app: Starlette, gql: GraphQLClient, database: Database
) -> None:
    ids = await people(gql, "ada", "bob")
    await sold(gql, database, ids["ada"], "S1", at(2026, 1))
    await sold(gql, database, ids["bob"], "S2", at(2026, 1))

    first = await start(gql, {"storeIds": ["S1", "S2"]})
    reordered = await start(gql, {"storeIds": ["S2", "S1"]})
    await app.state.services.worker.drain()
    after_completion = await start(gql, {"storeIds": ["S1", "S2"]})
    other = await start(gql, {"storeIds": ["S1"]})

    assert first["bulkAward"]["totalCustomers"] == 2
    assert reordered["bulkAward"]["id"] == first["bulkAward"]["id"]
    assert after_completion["bulkAward"]["id"] == first["bulkAward"]["id"]
    assert after_completion["bulkAward"]["status"] == "COMPLETED"
    assert refused(other) == [("IDEMPOTENCY_KEY_REUSED", ["input", "idempotencyKey"])]
    assert await award_entries(database) == {ids["ada"]: 1, ids["bob"]: 1}


async def test_more_than_ten_thousand_customer_ids_are_refused_pointing_at_segments(
    gql: GraphQLClient, database: Database
) -> None:
    input_ = {
        "idempotencyKey": "too-many",
        "customerIds": [f"customer-{n:05d}" for n in range(10_001)],
        "points": 20,
        "reason": "Too many",
    }

    payload = (await gql.data(BULK_AWARD, {"input": input_}))["bulkAwardPoints"]

    assert refused(payload) == [("INVALID_INPUT", ["input", "customerIds"])]
    assert "segment" in payload["userErrors"][0]["message"]
    assert await nothing_recorded(database)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"points": 0}, ["input", "points"]),
        ({"points": -20}, ["input", "points"]),
        ({"reason": "   "}, ["input", "reason"]),
    ],
)
async def test_bad_points_or_reason_with_a_segment_are_refused_and_award_nothing(
    gql: GraphQLClient, database: Database, change: dict[str, Any], field: list[str]
) -> None:
    await people(gql, "ada", "bob")

    assert refused(await start(gql, {"everyone": True}, **change)) == [("INVALID_INPUT", field)]
    assert await nothing_recorded(database)
