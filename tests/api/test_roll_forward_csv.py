"""The dashboard's CSV of the liability roll-forward: one row a period, the figures the
GraphQL field answers; admins only, as the field."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from api.auth import Role
from api.settings import Settings
from persistence.database import Database
from tests.conftest import GraphQLClient, bearer, mint

NOW = datetime.now(UTC).replace(microsecond=0)
SPAN = {"from": (NOW - timedelta(days=40)).isoformat(), "until": NOW.isoformat()}
ROLL = """
query($from: DateTime!, $until: DateTime!) {
  liabilityRollForward(from: $from, until: $until) {
    start end openingPoints closingPoints openingValue closingValue
    points { issued awarded redeemed expired adjusted reversed }
    value { issued awarded redeemed expired adjusted reversed }
    openingBreakageInAdvance closingBreakageInAdvance
  }
}"""


async def test_each_row_is_a_period_as_the_field_answers_it(
    history: Database, client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    periods = (await gql.data(ROLL, SPAN))["liabilityRollForward"]

    response = await client.get("/dashboard/roll-forward.csv", params=SPAN)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    day = (NOW - timedelta(days=40)).date()
    named = f'filename="liability-roll-forward-{day}-{NOW.date()}.csv"'
    assert named in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == len(periods) >= 2
    for row, period in zip(rows, periods, strict=True):
        assert row["start"] == period["start"]
        assert row["closingPoints"] == str(period["closingPoints"])
        assert row["closingValue"] == period["closingValue"]
        assert row["redeemedPoints"] == str(period["points"]["redeemed"])
        assert row["issuedValue"] == period["value"]["issued"]
        assert row["closingBreakageInAdvance"] == period["closingBreakageInAdvance"]
    assert int(rows[-1]["closingPoints"]) > 0
    assert list(rows[0])[:3] == ["start", "end", "openingPoints"]


async def test_a_manager_is_refused_as_by_the_field(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    manager = bearer(mint(settings, Role.MANAGER))

    refused = await client.get("/dashboard/roll-forward.csv", params=SPAN, headers=manager)
    anonymous = await client.get(
        "/dashboard/roll-forward.csv", params=SPAN, headers={"Authorization": ""}
    )

    assert (refused.status_code, refused.json()["code"]) == (403, "FORBIDDEN")
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    "params",
    [
        {"from": SPAN["from"]},
        {"from": "yesterday", "until": SPAN["until"]},
        {"from": SPAN["until"], "until": SPAN["from"]},
    ],
)
async def test_a_bad_span_is_refused_with_a_code(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    response = await client.get("/dashboard/roll-forward.csv", params=params)

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_INPUT"
