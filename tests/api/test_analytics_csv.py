"""The dashboard's CSV downloads over HTTP: the analytics query's own figures, under the
same token rules as GraphQL, refusals as JSON with a 4xx."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.auth import Role
from api.settings import Settings
from tests.conftest import GraphQLClient, bearer, mint
from tests.operations import create_store, earn, enroll, line

ROLLUP_SECONDS = 30.0
PERIOD_SELECTION = (
    "start end sales salesWithRedemption checkouts redemptions pointsEarned pointsAwarded "
    "pointsRedeemed pointsExpired pointsReversed pointsRedeemedPerTransaction activeCustomers "
    "newCustomers retainedCustomers retentionRate outstandingPoints outstandingValue revenue "
    "guestSales guestRevenue checkoutTimeP50Ms checkoutTimeP95Ms redemptionMedianDays "
    "redemptionP90Days"
)
PERIOD_FIELDS = PERIOD_SELECTION.split()
PERIODS = f"""
query($range: AnalyticsRange!) {{
  analytics(range: $range) {{ totals {{ sales }} periods {{ {PERIOD_SELECTION} }} }}
}}"""


def last_days(days: int) -> dict[str, str]:
    """The `days` whole UTC days before today, as the dashboard sends them."""
    until = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return {"from": (until - timedelta(days=days)).isoformat(), "until": until.isoformat()}


async def seed_sales(gql: GraphQLClient, range_: dict[str, str]) -> int:
    """Two customers buying over the range's days; the number of sales made."""
    await create_store(gql, "S1")
    await create_store(gql, "S2", "Second")
    first = datetime.fromisoformat(range_["from"]) + timedelta(hours=12)
    sales = [("ada@example.com", 0, "12.00"), ("ada@example.com", 1, "30.00")]
    sales += [("bob@example.com", 1, "7.50"), ("bob@example.com", 2, "20.00")]
    customers = {email: (await enroll(gql, email=email))["id"] for email in {e for e, *_ in sales}}
    for number, (email, day, price) in enumerate(sales):
        occurred_at = (first + timedelta(days=day)).isoformat()
        earned = await earn(
            gql, customers[email], f"sale-{number}", [line(price)], occurredAt=occurred_at
        )
        assert earned["userErrors"] == [], earned
    return len(sales)


async def rolled_up(gql: GraphQLClient, range_: dict[str, Any], sales: int) -> dict[str, Any]:
    """The analytics once the rollups count every sale posted (they count movements
    committed more than a moment ago)."""
    deadline = time.monotonic() + ROLLUP_SECONDS
    while True:
        analytics: dict[str, Any] = (await gql.data(PERIODS, {"range": range_}))["analytics"]
        if analytics["totals"]["sales"] == sales or time.monotonic() > deadline:
            assert analytics["totals"]["sales"] == sales, analytics["totals"]
            return analytics
        await asyncio.sleep(0.5)


def cell(value: object) -> str:
    """What the CSV holds for a GraphQL value: nothing for null, the text otherwise."""
    return "" if value is None else str(value)


def csv_rows(response: httpx.Response) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(response.text))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def query_of(range_: dict[str, str], **extra: str) -> dict[str, str]:
    return {**range_, "granularity": "DAY", "timeZone": "UTC", **extra}


async def test_the_periods_csv_holds_the_figures_of_the_analytics_query(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    range_ = last_days(3)
    sales = await seed_sales(gql, range_)
    analytics = await rolled_up(gql, {**range_, "granularity": "DAY", "timeZone": "UTC"}, sales)

    response = await client.get("/dashboard/periods.csv", params=query_of(range_))

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    first, until = range_["from"][:10], range_["until"][:10]
    disposition = f'attachment; filename="analytics-periods-{first}-{until}.csv"'
    assert response.headers["content-disposition"] == disposition
    header, rows = csv_rows(response)
    assert header == PERIOD_FIELDS
    expected = [
        {field: cell(period[field]) for field in PERIOD_FIELDS} for period in analytics["periods"]
    ]
    assert rows == expected
    assert len(rows) == 3
    assert sum(int(row["sales"]) for row in rows) == sales


async def test_the_periods_csv_of_one_store_is_that_stores_analytics(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    range_ = last_days(3)
    sales = await seed_sales(gql, range_)
    await rolled_up(gql, {**range_, "timeZone": "UTC"}, sales)

    elsewhere = await client.get("/dashboard/periods.csv", params=query_of(range_, storeIds="S2"))
    here = await client.get("/dashboard/periods.csv", params=query_of(range_, storeIds=" S1,"))

    assert elsewhere.status_code == here.status_code == 200
    assert [row["sales"] for row in csv_rows(elsewhere)[1]] == ["0", "0", "0"]
    assert sum(int(row["sales"]) for row in csv_rows(here)[1]) == sales


@pytest.mark.parametrize("table", ["campaigns", "staff", "velocity", "cohorts", "segments"])
async def test_every_table_downloads_with_a_camel_case_header(
    client: httpx.AsyncClient, table: str
) -> None:
    response = await client.get(f"/dashboard/{table}.csv", params=query_of(last_days(1)))

    assert response.status_code == 200, response.text
    header = response.text.splitlines()[0].split(",")
    assert header
    assert all(name.isidentifier() and name[0].islower() for name in header), header


async def test_a_cashier_is_refused_with_403(client: httpx.AsyncClient, settings: Settings) -> None:
    cashier = mint(settings, Role.CASHIER)

    response = await client.get(
        "/dashboard/periods.csv", params=query_of(last_days(1)), headers=bearer(cashier)
    )

    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"


async def test_a_request_without_a_token_is_refused_with_401(client: httpx.AsyncClient) -> None:
    client.headers.pop("Authorization")

    response = await client.get("/dashboard/periods.csv", params=query_of(last_days(1)))

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "UNAUTHENTICATED"
    assert "authentication required" in response.json()["message"]


async def test_an_expired_token_is_refused_with_401(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    expired = mint(settings, Role.ADMIN, stores=(), ttl=-timedelta(hours=1))

    response = await client.get(
        "/dashboard/periods.csv", params=query_of(last_days(1)), headers=bearer(expired)
    )

    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHENTICATED"


async def test_a_manager_asking_for_another_store_is_refused_with_403(
    client: httpx.AsyncClient, gql: GraphQLClient, settings: Settings
) -> None:
    await create_store(gql, "S1")
    await create_store(gql, "S2", "Second")
    manager = mint(settings, Role.MANAGER, stores=("S1",), terminal=None)
    params = query_of(last_days(1), storeIds="S2")

    response = await client.get("/dashboard/periods.csv", params=params, headers=bearer(manager))

    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"


async def test_a_range_that_is_not_whole_days_is_refused_with_400(
    client: httpx.AsyncClient,
) -> None:
    range_ = last_days(1)
    range_["from"] = range_["from"].replace("T00:00:00", "T10:30:00")

    response = await client.get("/dashboard/periods.csv", params=query_of(range_))

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_INPUT"


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"until": "2026-11-02T00:00:00+00:00"}, 400),  # no start
        ({"from": "yesterday", "until": "2026-11-02T00:00:00+00:00"}, 400),
        (
            {
                "from": "2026-11-01T00:00:00+00:00",
                "until": "2026-11-02T00:00:00+00:00",
                "granularity": "FORTNIGHT",
            },
            400,
        ),
    ],
)
async def test_query_parameters_the_schema_cannot_take_are_refused_with_400(
    client: httpx.AsyncClient, params: dict[str, str], status: int
) -> None:
    response = await client.get("/dashboard/periods.csv", params=params)

    assert response.status_code == status
    assert response.json()["code"] == "INVALID_INPUT"


async def test_an_unknown_table_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/dashboard/customers.csv", params=query_of(last_days(1)))

    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
