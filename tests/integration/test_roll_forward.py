"""The liability roll-forward over a demo history that crosses a month end: each period
opens where the last closed, its columns are the journal's liability movements by kind,
its closing is the liability summed from the journal, and its money is each movement at
the point value in force when it happened (a value change mid-period included)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from sqlalchemy import select

from domain.ledger import PostedEntry
from persistence.database import Database
from persistence.journal import posted_entries
from persistence.models import JournalEntryRow
from tests.conftest import GraphQLClient

NOW = datetime.now(UTC)
ROLL = """
query($from: DateTime!, $until: DateTime!) {
  liabilityRollForward(from: $from, until: $until) {
    start end openingPoints closingPoints openingValue closingValue
    points { issued awarded redeemed expired adjusted reversed }
    value { issued awarded redeemed expired adjusted reversed }
  }
}"""
KINDS = {
    "issued": "EARN",
    "awarded": "BULK_AWARD",
    "redeemed": "REDEEM",
    "expired": "EXPIRE",
    "adjusted": "ADJUST",
    "reversed": "REVERSAL",
}


async def every_entry(database: Database) -> list[PostedEntry]:
    async with database.reading() as session:
        return await posted_entries(session, select(JournalEntryRow).order_by(JournalEntryRow.id))


def liability(posted: PostedEntry) -> int:
    return sum(
        line.amount
        for line in posted.entry.lines
        if line.account.startswith(("customer:", "owed:"))
    )


def moved(
    entries: list[PostedEntry], start: datetime, end: datetime, kind: str | None = None
) -> int:
    return sum(
        liability(p)
        for p in entries
        if start <= p.entry.movement.occurred_at < end and kind in (None, p.entry.kind.value)
    )


async def rolled(gql: GraphQLClient, start: datetime, end: datetime) -> list[dict[str, Any]]:
    found = await gql.data(ROLL, {"from": start.isoformat(), "until": end.isoformat()})
    periods: list[dict[str, Any]] = found["liabilityRollForward"]
    return periods


async def test_each_period_is_the_journals_liability_movements_by_kind(
    history: Database, gql: GraphQLClient
) -> None:
    start, end = NOW - timedelta(days=10), NOW + timedelta(hours=1)
    entries = await every_entry(history)

    periods = await rolled(gql, start, end)

    assert len(periods) == (2 if start.month != end.month else 1)
    assert periods[0]["openingPoints"] == 0
    for earlier, later in pairwise(periods):
        assert later["openingPoints"] == earlier["closingPoints"]
        assert later["openingValue"] == earlier["closingValue"]
    for period in periods:
        a, b = (datetime.fromisoformat(period[edge]) for edge in ("start", "end"))
        signs = {"redeemed": -1, "expired": -1}
        for column, kind in KINDS.items():
            assert period["points"][column] == signs.get(column, 1) * moved(entries, a, b, kind)
        assert period["closingPoints"] == moved(entries, start - timedelta(days=3650), b)
        assert Decimal(period["closingValue"]) == Decimal("0.01") * period["closingPoints"]
    assert periods[-1]["closingPoints"] == sum(liability(p) for p in entries)


async def test_money_is_each_movement_at_the_point_value_of_its_time(
    history: Database, gql: GraphQLClient
) -> None:
    change = (NOW - timedelta(days=3)).replace(microsecond=0)
    await gql.data(
        'mutation($at: DateTime!) { setPointValue(input: {value: "0.015", effectiveFrom: $at}) '
        "{ userErrors { code } } }",
        {"at": change.isoformat()},
    )
    entries = await every_entry(history)

    periods = await rolled(gql, NOW - timedelta(days=10), NOW + timedelta(hours=1))

    expected = sum(
        (Decimal("0.015") if p.entry.movement.occurred_at >= change else Decimal("0.01"))
        * liability(p)
        for p in entries
    )
    assert Decimal(periods[-1]["closingValue"]) == expected
    issued = sum(Decimal(period["value"]["issued"]) for period in periods)
    assert issued == sum(
        (Decimal("0.015") if p.entry.movement.occurred_at >= change else Decimal("0.01"))
        * liability(p)
        for p in entries
        if p.entry.kind.value == "EARN"
    )
