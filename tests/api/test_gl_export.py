"""The GL feed and the auditors' journal over HTTP and from the command line: every journal
balanced, the liability's movement equal to the valued points movements, each format as
its system imports it, point values and accounts from their moment on, refused inside a
closed period; admins only."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from api.auth import Role
from api.settings import Settings
from persistence.database import Database
from persistence.journal import posted_entries
from persistence.models import JournalEntryRow
from tests.conftest import GraphQLClient, bearer, loyalty_command, mint

TODAY = datetime.now(UTC).date()
FROM, UNTIL = TODAY - timedelta(days=8), TODAY + timedelta(days=1)
SET_VALUE = """
mutation($input: SetPointValueInput!) {
  setPointValue(input: $input) { valuation { pointValue } userErrors { code field message } }
}"""
MAP_ACCOUNT = """
mutation($input: MapGlAccountInput!) {
  mapGlAccount(input: $input) {
    valuation { accounts { role code name } changes { changedBy account { code } } }
    userErrors { code field }
  }
}"""


async def export(
    client: httpx.AsyncClient, kind: str = "generic", first: date = FROM, last: date = UNTIL
) -> list[dict[str, str]]:
    response = await client.get(
        "/exports/gl.csv", params={"from": str(first), "until": str(last), "format": kind}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


async def liability_points(database: Database, first: date, last: date) -> int:
    """The points journal's own figure: customers' and owed lines of the entries in range."""
    start = datetime.combine(first, datetime.min.time(), UTC)
    end = datetime.combine(last, datetime.min.time(), UTC)
    async with database.reading() as session:
        found = await posted_entries(
            session,
            select(JournalEntryRow).where(
                JournalEntryRow.occurred_at >= start, JournalEntryRow.occurred_at < end
            ),
        )
    return sum(
        line.amount
        for posted in found
        for line in posted.entry.lines
        if line.account.startswith(("customer:", "owed:"))
    )


async def test_every_journal_balances_and_the_liability_is_the_valued_movements(
    history: Database, client: httpx.AsyncClient
) -> None:
    lines = await export(client)

    assert ",".join(lines[0]) == (
        "date,entry,account_code,account_name,store_id,description,debit,credit,currency"
    )
    by_entry: defaultdict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        debit, credit = Decimal(line["debit"]), Decimal(line["credit"])
        assert min(debit, credit) == 0 <= max(debit, credit)
        by_entry[line["entry"]] += debit - credit
        assert line["currency"] == "USD"
    assert len(by_entry) > 7
    assert set(by_entry.values()) == {Decimal(0)}
    liability = sum(
        Decimal(x["credit"]) - Decimal(x["debit"]) for x in lines if x["account_code"] == "2400"
    )
    assert liability == Decimal("0.01") * await liability_points(history, FROM, UNTIL)
    assert {x["account_code"] for x in lines} >= {"2400", "4000", "4010", "6100"}


async def test_xero_and_quickbooks_files_balance_per_journal(
    history: Database, client: httpx.AsyncClient
) -> None:
    xero = await export(client, "xero")
    quickbooks = await export(client, "quickbooks")

    assert list(xero[0])[:6] == [
        "*Narration",
        "*Date",
        "Description",
        "*AccountCode",
        "*TaxRate",
        "*Amount",
    ]
    sums: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in xero:
        sums[(row["*Narration"], row["*Date"])] += Decimal(row["*Amount"])
        assert row["*TaxRate"] == "Tax Exempt"
    assert set(sums.values()) == {Decimal(0)}
    assert list(quickbooks[0])[:6] == [
        "Journal No.", "Journal Date", "Account Name", "Description", "Debits", "Credits",
    ]  # fmt: skip
    balance: defaultdict[str, Decimal] = defaultdict(Decimal)
    for row in quickbooks:
        balance[row["Journal No."]] += Decimal(row["Debits"] or 0) - Decimal(row["Credits"] or 0)
    assert set(balance.values()) == {Decimal(0)}
    assert len(balance) == len(sums)


async def test_a_point_value_and_an_account_hold_from_their_moment_on(
    history: Database, client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    before = await export(client)
    midnight = datetime.combine(TODAY - timedelta(days=2), datetime.min.time(), UTC)
    value = await gql.data(
        SET_VALUE, {"input": {"value": "0.02", "effectiveFrom": midnight.isoformat()}}
    )
    mapped = await gql.data(
        MAP_ACCOUNT,
        {
            "input": {
                "role": "LIABILITY",
                "code": "21500",
                "name": "Contract liability",
                "effectiveFrom": midnight.isoformat(),
            }
        },
    )
    after = await export(client)

    assert value["setPointValue"]["userErrors"] == []
    valuation = mapped["mapGlAccount"]["valuation"]
    assert {"role": "LIABILITY", "code": "21500", "name": "Contract liability"} in valuation[
        "accounts"
    ]
    assert [c["changedBy"] for c in valuation["changes"]] == ["admin-1", "admin-1"]
    old_days = {x["date"] for x in after if x["date"] < str(midnight.date())}
    assert [x for x in before if x["date"] in old_days] == [
        x for x in after if x["date"] in old_days
    ]
    recent = [x for x in after if x["date"] >= str(midnight.date())]
    assert recent
    assert "2400" not in {x["account_code"] for x in recent}
    recent_before = {
        (x["entry"], x["account_code"]): x for x in before if x["date"] >= str(midnight.date())
    }
    for line in recent:
        code = "2400" if line["account_code"] == "21500" else line["account_code"]
        earlier = recent_before[(line["entry"], code)]
        assert Decimal(line["debit"]) == 2 * Decimal(earlier["debit"])
        assert Decimal(line["credit"]) == 2 * Decimal(earlier["credit"])


async def test_a_valuation_change_inside_a_closed_period_is_refused(
    history: Database, gql: GraphQLClient
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    await gql.data(
        "mutation($u: DateTime!) "
        '{ closePeriod(input: {until: $u, reason: "Nov"}) { closedUntil } }',
        {"u": (now - timedelta(days=1)).isoformat()},
    )

    value = await gql.data(
        SET_VALUE,
        {"input": {"value": "0.02", "effectiveFrom": (now - timedelta(days=2)).isoformat()}},
    )
    bad = await gql.data(SET_VALUE, {"input": {"value": "0.123456"}})

    [error] = value["setPointValue"]["userErrors"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", ["input", "effectiveFrom"])
    assert "closed" in error["message"]
    assert bad["setPointValue"]["userErrors"][0]["field"] == ["input", "value"]


async def test_the_journal_export_has_every_entry_with_its_lines_times_and_hash(
    history: Database, client: httpx.AsyncClient
) -> None:
    response = await client.get(
        "/exports/journal.jsonl", params={"from": str(FROM), "until": str(UNTIL)}
    )

    assert response.status_code == 200
    records = [json.loads(line) for line in response.text.splitlines()]
    async with history.reading() as session:
        stored = {row.id: row.hash for row in await session.scalars(select(JournalEntryRow))}
    assert {r["id"]: r["hash"] for r in records} == stored
    for record in records:
        assert sum(line["amount"] for line in record["lines"]) == 0
        assert record["occurredAt"] <= record["recordedAt"] or record["kind"] != "EARN"
        assert set(record) >= {"kind", "customerId", "recordedBy", "saleId", "storeId"}


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"from": "2026-11-01"}, 400),
        ({"from": "2026-11-01", "until": "2026-10-01"}, 400),
        ({"from": "yesterday", "until": "2026-10-01"}, 400),
        ({"from": "2026-11-01", "until": "2026-12-01", "format": "sage"}, 400),
    ],
)
async def test_bad_ranges_and_formats_are_refused_with_a_code(
    client: httpx.AsyncClient, params: dict[str, str], status: int
) -> None:
    response = await client.get("/exports/gl.csv", params=params)

    assert response.status_code == status
    assert response.json()["code"] == "INVALID_INPUT"


async def test_only_an_admin_exports_the_books(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    params = {"from": "2026-11-01", "until": "2026-12-01"}
    manager = bearer(mint(settings, Role.MANAGER))

    for path in ("/exports/gl.csv", "/exports/journal.jsonl"):
        assert (
            await client.get(path, params=params, headers={"Authorization": ""})
        ).status_code == 401
        assert (await client.get(path, params=params, headers=manager)).status_code == 403


def loyalty(*arguments: str, url: str) -> subprocess.CompletedProcess[str]:
    return loyalty_command(*arguments, database_url=url)


async def test_the_command_line_writes_the_same_files(
    history: Database, client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    days = ("--from", str(FROM), "--until", str(UNTIL))
    target = tmp_path / "gl.csv"
    written = await asyncio.to_thread(
        loyalty,
        "gl-export",
        *days,
        "--format",
        "xero",
        "--output",
        str(target),
        url=settings.database_url,
    )
    journal = await asyncio.to_thread(loyalty, "journal-export", *days, url=settings.database_url)

    assert written.returncode == 0, written.stderr
    over_http = await client.get(
        "/exports/gl.csv", params={"from": str(FROM), "until": str(UNTIL), "format": "xero"}
    )
    assert target.read_bytes().decode() == over_http.text
    assert journal.returncode == 0, journal.stderr
    assert len(journal.stdout.splitlines()) == len(
        (
            await client.get(
                "/exports/journal.jsonl", params={"from": str(FROM), "until": str(UNTIL)}
            )
        ).text.splitlines()
    )
