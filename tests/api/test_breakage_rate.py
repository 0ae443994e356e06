"""The expected breakage rate over HTTP: set by admins only, from a moment on, kept with who
set it; a redemption's GL lines then show the breakage recognised in advance, the roll-
forward the contra's balance, and the books still reconcile; without a rate, or at 0,
the export is byte for byte what it was."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from api.auth import Role
from api.settings import Settings
from persistence.database import Database
from tests.conftest import GraphQLClient, mint
from tests.operations import create_store, earn, enroll, line, redeem

TODAY = datetime.now(UTC).date()
FROM, UNTIL = TODAY - timedelta(days=8), TODAY + timedelta(days=1)
SET_RATE = """
mutation($input: SetBreakageRateInput!) {
  setBreakageRate(input: $input) {
    valuation { breakageRate changes { breakageRate changedBy effectiveFrom } }
    userErrors { code field message }
  }
}"""
ROLL = """
query($from: DateTime!, $until: DateTime!) {
  liabilityRollForward(from: $from, until: $until) {
    closingValue openingBreakageInAdvance closingBreakageInAdvance
  }
}"""


async def set_rate(gql: GraphQLClient, rate: str, since: datetime | None = None) -> dict[str, Any]:
    effective = {} if since is None else {"effectiveFrom": since.isoformat()}
    found = await gql.data(SET_RATE, {"input": {"rate": rate, **effective}})
    payload: dict[str, Any] = found["setBreakageRate"]
    return payload


async def export_text(client: httpx.AsyncClient, first: date = FROM) -> str:
    response = await client.get("/exports/gl.csv", params={"from": str(first), "until": str(UNTIL)})
    assert response.status_code == 200, response.text
    return response.text


async def rolled(gql: GraphQLClient, first: date) -> list[dict[str, Any]]:
    found = await gql.data(
        ROLL,
        {
            "from": datetime.combine(first, datetime.min.time(), UTC).isoformat(),
            "until": datetime.combine(UNTIL, datetime.min.time(), UTC).isoformat(),
        },
    )
    periods: list[dict[str, Any]] = found["liabilityRollForward"]
    return periods


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def net(lines: list[dict[str, str]], code: str) -> Decimal:
    """An account's net over the lines, credits positive."""
    return sum(
        (Decimal(x["credit"]) - Decimal(x["debit"]) for x in lines if x["account_code"] == code),
        Decimal(0),
    )


async def test_only_an_admin_sets_the_rate_and_every_change_is_kept(
    gql: GraphQLClient, settings: Settings
) -> None:
    for role in (Role.MANAGER, Role.CASHIER):
        refused = await gql.with_token(mint(settings, role)).raw(
            SET_RATE, {"input": {"rate": "0.2"}}
        )
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    unset = await gql.data("{ valuation { breakageRate } }")
    payload = await set_rate(gql, "0.2")

    assert unset["valuation"]["breakageRate"] == "0.00"
    assert payload["userErrors"] == []
    assert payload["valuation"]["breakageRate"] == "0.20"
    [change] = payload["valuation"]["changes"]
    assert (change["breakageRate"], change["changedBy"]) == ("0.20", "admin-1")


@pytest.mark.parametrize("rate", ["1", "0.96", "-0.1", "0.12345", "a fifth"])
async def test_a_rate_outside_zero_to_ninety_five_hundredths_is_refused(
    gql: GraphQLClient, rate: str
) -> None:
    payload = await set_rate(gql, rate)

    [error] = payload["userErrors"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", ["input", "rate"])
    assert (await gql.data("{ valuation { changes { at } } }"))["valuation"]["changes"] == []


async def test_a_rate_inside_a_closed_period_is_refused(gql: GraphQLClient) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    await gql.data(
        'mutation($u: DateTime!) { closePeriod(input: {until: $u, reason: "Nov"}) '
        "{ closedUntil } }",
        {"u": (now - timedelta(days=1)).isoformat()},
    )

    payload = await set_rate(gql, "0.2", now - timedelta(days=2))

    [error] = payload["userErrors"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", ["input", "effectiveFrom"])


async def test_a_redemptions_gl_lines_show_the_breakage_recognised_in_advance(
    gql: GraphQLClient, client: httpx.AsyncClient
) -> None:
    await create_store(gql)
    customer = await enroll(gql, email="ada@example.com")
    assert (await earn(gql, customer["id"], "sale-1", [line("1000.00")]))["userErrors"] == []
    await set_rate(gql, "0.2")

    assert (await redeem(gql, customer["id"], "spend-1", 400))["userErrors"] == []
    lines = rows(await export_text(client))

    store = [x for x in lines if x["store_id"] == "S1"]
    assert {(x["account_code"], x["debit"], x["credit"]) for x in store} == {
        ("2400", "0.00", "6.00"),  # 10.00 deferred, 4.00 released
        ("2410", "1.00", "0.00"),  # 0.25 x 4.00 recognised in advance
        ("4000", "10.00", "0.00"),
        ("4010", "0.00", "4.00"),
        ("4020", "0.00", "1.00"),
    }
    assert [x["account_name"] for x in store if x["account_code"] == "2410"] == [
        "Loyalty liability: breakage in advance"
    ]


async def test_without_a_rate_or_at_zero_the_export_is_unchanged(
    history: Database, client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    unset = await export_text(client)

    await set_rate(gql, "0", datetime.now(UTC) - timedelta(days=30))
    at_zero = await export_text(client)

    assert at_zero == unset
    assert "2410" not in {x["account_code"] for x in rows(unset)}


async def test_the_contra_in_the_export_is_the_roll_forwards_and_the_books_reconcile(
    history: Database, client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    unset = rows(await export_text(client))
    await set_rate(gql, "0.5", datetime.now(UTC) - timedelta(days=4))

    lines = rows(await export_text(client))
    periods = await rolled(gql, FROM)
    books = await gql.data("{ reconciliation { balanced checks { name holds detail } } }")

    assert Decimal(periods[0]["openingBreakageInAdvance"]) == 0
    in_advance = Decimal(periods[-1]["closingBreakageInAdvance"])
    assert in_advance > 0
    assert -net(lines, "2410") == in_advance
    assert net(lines, "2400") == net(unset, "2400")
    recognised = net(lines, "4020") - net(unset, "4020")
    sales_returns = net(lines, "4090") - net(unset, "4090")
    assert recognised + sales_returns == in_advance
    by_entry: defaultdict[str, Decimal] = defaultdict(Decimal)
    for x in lines:
        by_entry[x["entry"]] += Decimal(x["debit"]) - Decimal(x["credit"])
    assert set(by_entry.values()) == {Decimal(0)}
    assert books["reconciliation"]["balanced"], books


async def test_an_export_starting_mid_history_moves_the_contra_as_the_roll_forward_says(
    history: Database, client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    """The second rate's catch-up is on everything redeemed since the journal began, before
    the export's first day too."""
    await set_rate(gql, "0.5", datetime.now(UTC) - timedelta(days=6))
    await set_rate(gql, "0.2", datetime.now(UTC) - timedelta(days=1))
    first = TODAY - timedelta(days=2)

    lines = rows(await export_text(client, first))
    periods = await rolled(gql, first)

    opening = Decimal(periods[0]["openingBreakageInAdvance"])
    closing = Decimal(periods[-1]["closingBreakageInAdvance"])
    assert opening > 0
    # the figure is in whole cents, so the export's lines need no rounding: exactly equal
    assert -net(lines, "2410") == closing - opening
