"""The analytics query and live tiles through GraphQL: who may ask, what a range may be,
and figures a store manager can check by hand."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette

from api.auth import Role
from api.settings import Settings
from tests.api.test_balance_subscription import next_message, open_ws
from tests.conftest import GraphQLClient, mint, websocket_client
from tests.operations import create_store, earn, enroll, line, redeem

TOTALS = """
query($range: AnalyticsRange!) {
  analytics(range: $range) {
    totals { start end sales salesWithRedemption pointsEarned pointsRedeemed
             pointsRedeemedPerTransaction activeCustomers newCustomers retainedCustomers
             retentionRate outstandingPoints outstandingValue revenue }
    periods { start end sales activeCustomers retainedCustomers retentionRate }
    staff { staffId storeId enrolments sales pointsIssued pointsRedeemed }
    redemptionVelocity { rewardId redemptions pointsRedeemed medianDaysToRedeem }
  }
}"""
TILES = (
    "subscription($store: ID!) { storeTiles(storeId: $store) "
    "{ storeId sales pointsEarned pointsRedeemed activeCustomers revenue } }"
)


def midnight(days_ago: int) -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days_ago)


def day_range(first_days_ago: int, days: int, **extra: Any) -> dict[str, Any]:
    start = midnight(first_days_ago)
    return {
        "from": start.isoformat(),
        "until": (start + timedelta(days=days)).isoformat(),
        **extra,
    }


async def counted(app: Starlette) -> None:
    """What the rollup worker would count within a second, counted now."""
    await app.state.services.rollups.drain()


async def analytics(gql: GraphQLClient, range_: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = (await gql.data(TOTALS, {"range": range_}))["analytics"]
    return found


async def two_days_of_sales(gql: GraphQLClient) -> tuple[str, str]:
    """Ann buys on both days (and spends 5 points the second), Bob on the second only."""
    await create_store(gql, "S1")
    await create_store(gql, "S2", "Harbour")
    ann = (await enroll(gql, email="ann@example.com"))["id"]
    bob = (await enroll(gql, email="bob@example.com"))["id"]
    day_one = midnight(2) + timedelta(hours=10)
    day_two = midnight(1) + timedelta(hours=11)
    await earn(gql, ann, "a1", [line("20.00")], occurredAt=day_one.isoformat())
    await earn(gql, ann, "a2", [line("10.00")], occurredAt=day_two.isoformat())
    await redeem(gql, ann, "a3", 5, occurredAt=(day_two + timedelta(minutes=5)).isoformat())
    await earn(gql, bob, "b1", [line("7.50")], store_id="S2", occurredAt=day_two.isoformat())
    return ann, bob


async def test_the_totals_and_periods_count_each_sale_where_it_happened(
    app: Starlette, gql: GraphQLClient
) -> None:
    await two_days_of_sales(gql)
    await counted(app)

    report = await analytics(gql, day_range(2, 2))

    totals = report["totals"]
    assert totals["sales"] == 3
    assert totals["pointsEarned"] == 37
    assert totals["pointsRedeemed"] == 5
    assert totals["pointsRedeemedPerTransaction"] == pytest.approx(5 / 3)
    assert totals["activeCustomers"] == 2
    assert totals["outstandingPoints"] == 32
    assert totals["outstandingValue"] == "0.32"
    assert totals["revenue"] == "37.50"
    assert [(p["sales"], p["activeCustomers"]) for p in report["periods"]] == [(1, 1), (2, 2)]
    # Ann was active on the first day and again on the second: retained, one of one.
    assert report["periods"][1]["retainedCustomers"] == 1
    assert report["periods"][1]["retentionRate"] == 1.0
    # The 5 points came from the first day's lot: 25 h 05 min old, 1.05 days to 3 figures.
    assert report["redemptionVelocity"] == [
        {"rewardId": None, "redemptions": 1, "pointsRedeemed": 5, "medianDaysToRedeem": 1.05}
    ]


async def test_a_manager_sees_their_store_and_is_refused_another(
    app: Starlette, gql: GraphQLClient, settings: Settings
) -> None:
    await two_days_of_sales(gql)
    await counted(app)
    manager = gql.with_token(mint(settings, Role.MANAGER, stores=("S2",), staff="mgr-2"))

    own = await analytics(manager, day_range(2, 2))
    other = await manager.raw(TOTALS, {"range": day_range(2, 2, storeIds=["S1"])})

    assert own["totals"]["sales"] == 1
    assert own["totals"]["revenue"] == "7.50"
    # Balances belong to no store: the liability is the programme's.
    assert own["totals"]["outstandingPoints"] == 32
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("role", [Role.CASHIER, Role.DISPLAY])
async def test_cashiers_and_displays_are_refused(
    gql: GraphQLClient, settings: Settings, role: Role
) -> None:
    till = gql.with_token(mint(settings, role, stores=("S1",)))

    refused = await till.raw(TOTALS, {"range": day_range(2, 2)})

    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    "range_",
    [
        {"from": "2026-11-01T10:00:00+00:00", "until": "2026-11-02T00:00:00+00:00"},
        {"from": "2026-11-02T00:00:00+00:00", "until": "2026-11-01T00:00:00+00:00"},
        {
            "from": "2026-11-01T00:00:00+00:00",
            "until": "2026-11-02T00:00:00+00:00",
            "timeZone": "Mars/Olympus",
        },
        {
            "from": "2026-11-01T00:00:00+00:00",
            "until": "2026-11-02T00:00:00+00:00",
            "timeZone": "Europe/Paris",
        },
    ],
)
async def test_a_range_that_is_not_whole_days_in_a_real_zone_is_refused(
    gql: GraphQLClient, range_: dict[str, Any]
) -> None:
    refused = await gql.raw(TOTALS, {"range": range_})

    assert refused["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_the_staff_view_counts_each_staff_members_work(
    app: Starlette, gql: GraphQLClient, settings: Settings
) -> None:
    await create_store(gql, "S1")
    cashier = gql.with_token(mint(settings, Role.CASHIER, stores=("S1",), staff="cara"))
    customer = (await enroll(cashier, email="new@example.com"))["id"]
    await earn(cashier, customer, "c1", [line("12.00")])
    await redeem(cashier, customer, "c2", 2)
    await counted(app)

    report = await analytics(gql, day_range(0, 1))

    assert report["staff"] == [
        {
            "staffId": "cara",
            "storeId": "S1",
            "enrolments": 1,
            "sales": 1,
            "pointsIssued": 12,
            "pointsRedeemed": 2,
        }
    ]
    assert report["totals"]["newCustomers"] == 1


async def test_live_tiles_show_todays_figures_as_they_are_counted(
    app: Starlette, gql: GraphQLClient, settings: Settings
) -> None:
    await create_store(gql, "S1")
    customer = (await enroll(gql, email="tiles@example.com"))["id"]
    cashier = mint(settings, Role.CASHIER, stores=("S1",))

    async with websocket_client(app) as http, open_ws(http, "graphql-transport-ws") as ws:
        init = {"authorization": f"Bearer {cashier}"}
        await ws.send_json({"type": "connection_init", "payload": init})
        assert (await next_message(ws))["type"] == "connection_ack"
        payload = {"query": TILES, "variables": {"store": "S1"}}
        await ws.send_json({"id": "1", "type": "subscribe", "payload": payload})
        first = (await next_message(ws))["payload"]["data"]["storeTiles"]
        await earn(gql, customer, "t1", [line("15.00")])
        await asyncio.wait_for(counted_and_told(app), 5)
        second = (await next_message(ws))["payload"]["data"]["storeTiles"]

    assert first == {
        "storeId": "S1",
        "sales": 0,
        "pointsEarned": 0,
        "pointsRedeemed": 0,
        "activeCustomers": 0,
        "revenue": "0.00",
    }
    assert second == {
        **first,
        "sales": 1,
        "pointsEarned": 15,
        "activeCustomers": 1,
        "revenue": "15.00",
    }


async def counted_and_told(app: Starlette) -> None:
    rollups = app.state.services.rollups
    await rollups.drain()
    await rollups.tell_stores()


async def test_a_zone_the_rollups_do_not_keep_is_answered_from_the_raw_rows(
    app: Starlette, gql: GraphQLClient
) -> None:
    await two_days_of_sales(gql)
    await counted(app)
    utc = await analytics(gql, day_range(2, 2))
    # Tokyo's days start 9 hours before UTC's: the same sales, other days.
    start = midnight(2) - timedelta(hours=9)
    tokyo = {
        "from": start.isoformat(),
        "until": (start + timedelta(days=3)).isoformat(),
        "timeZone": "Asia/Tokyo",
    }

    other = await analytics(gql, tokyo)

    assert other["totals"]["sales"] == utc["totals"]["sales"] == 3
    assert other["totals"]["revenue"] == "37.50"
    assert len(other["periods"]) == 3
