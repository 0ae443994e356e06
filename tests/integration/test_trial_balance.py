"""The trial balance at any moment: equal to the journal summed up to that moment, read from
the last snapshot that still holds plus the movements since (a snapshot altered shows, so
it is what is read), snapshots taken only where nothing can be recorded any more and
dropped when a reopened period unsettles them; over GraphQL for admins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, text, update

from domain.trial_balance import CUSTOMERS
from persistence.database import Database
from persistence.models import CustomerRow, JournalEntryRow, LedgerSnapshotRow
from persistence.queries.trial_balance import account_sums_at
from subscriptions.broker import InProcessBroker
from subscriptions.hub import Hub
from tests.conftest import GraphQLClient
from tests.operations import create_store, earn, enroll, line
from workers.ledger_snapshots import SnapshotWorker

NOW = datetime.now(UTC)
TRIAL_BALANCE = """
query($at: DateTime) { trialBalance(at: $at) { at totalPoints accounts { account points value } } }
"""


def snapshots(database: Database, back: timedelta, now: datetime = NOW) -> SnapshotWorker:
    return SnapshotWorker(
        database, InProcessBroker(Hub()), lambda: now, back=back, interval_seconds=3600
    )


async def from_the_journal(database: Database, at: datetime) -> dict[str, int]:
    """The plain computation: every line of every entry that happened at or before `at`."""
    grouped = (
        "CASE WHEN l.account LIKE 'customer:%' THEN 'customer:*' "
        "WHEN l.account LIKE 'owed:%' THEN 'owed:*' ELSE l.account END"
    )
    async with database.reading() as session:
        happened = select(JournalEntryRow.id).where(JournalEntryRow.occurred_at <= at)
        ids = [entry_id for (entry_id,) in await session.execute(happened)]
        if not ids:
            return {}
        found = await session.execute(
            text(
                f"SELECT {grouped}, SUM(l.amount) FROM journal_lines l "
                f"WHERE l.entry_id IN ({', '.join(map(str, ids))}) GROUP BY 1"
            )
        )
        return {account: int(points) for account, points in found}


async def sums_at(database: Database, at: datetime, back: timedelta) -> dict[str, int]:
    async with database.reading() as session:
        found = await account_sums_at(session, at, NOW, back)
    return {account: points for account, points in found.items() if points or account == CUSTOMERS}


def without_zeros(sums: dict[str, int]) -> dict[str, int]:
    return {account: points for account, points in sums.items() if points}


MOMENTS = [NOW - timedelta(days=d, hours=h) for d in (0, 1, 3, 6) for h in (0, 5)]


async def test_at_every_moment_it_equals_the_journal_summed_to_then(history: Database) -> None:
    taken = await snapshots(history, back=timedelta(0)).catch_up()

    assert taken >= 7
    for moment in [*MOMENTS, NOW - timedelta(days=30)]:
        expected = await from_the_journal(history, moment)
        assert without_zeros(await sums_at(history, moment, timedelta(0))) == without_zeros(
            expected
        ), moment
    assert sum((await sums_at(history, NOW, timedelta(0))).values()) == 0


async def test_it_is_read_from_the_snapshot_not_replayed(history: Database) -> None:
    await snapshots(history, back=timedelta(0)).catch_up()
    async with history.write_sessions() as session, session.begin():
        latest = await session.scalar(select(func.max(LedgerSnapshotRow.at)))
        await session.execute(
            update(LedgerSnapshotRow)
            .where(LedgerSnapshotRow.at == latest, LedgerSnapshotRow.account == CUSTOMERS)
            .values(points=LedgerSnapshotRow.points + 1000)
        )
    assert latest is not None

    shifted = await sums_at(history, latest + timedelta(minutes=1), timedelta(0))
    expected = await from_the_journal(history, latest + timedelta(minutes=1))

    assert shifted[CUSTOMERS] == expected[CUSTOMERS] + 1000


async def test_snapshots_are_only_taken_where_nothing_can_be_recorded_any_more(
    history: Database,
) -> None:
    """With a 7-day window, none is taken in the last 7 days."""
    await snapshots(history, back=timedelta(days=7, hours=1)).catch_up()

    async with history.reading() as session:
        latest = await session.scalar(select(func.max(LedgerSnapshotRow.at)))
    assert latest is None or latest <= NOW - timedelta(days=7, hours=1)


async def test_a_reopened_period_drops_the_snapshots_after_it(
    history: Database, gql: GraphQLClient
) -> None:
    closed_at = (NOW - timedelta(days=2)).replace(microsecond=0)
    await gql.data(
        'mutation($u: DateTime!) { closePeriod(input: {until: $u, reason: "books"}) '
        "{ userErrors { code } } }",
        {"u": closed_at.isoformat()},
    )
    long_window = timedelta(days=30)
    await snapshots(history, back=long_window).catch_up()
    async with history.reading() as session:
        kept = set(await session.scalars(select(LedgerSnapshotRow.at).distinct()))
    assert max(kept) == closed_at

    reopened_from = closed_at - timedelta(days=1, hours=3)
    await gql.data(
        'mutation($f: DateTime!) { reopenPeriod(input: {from: $f, reason: "late till"}) '
        "{ userErrors { code } } }",
        {"f": reopened_from.isoformat()},
    )
    await snapshots(history, back=long_window).catch_up()

    async with history.reading() as session:
        left = set(await session.scalars(select(LedgerSnapshotRow.at).distinct()))
    assert max(left) == reopened_from
    assert {moment for moment in kept if moment <= reopened_from} <= left


async def test_an_admin_reads_it_over_graphql_valued_at_the_point_value(
    history: Database, gql: GraphQLClient
) -> None:
    now = await gql.data(TRIAL_BALANCE)
    earlier = await gql.data(TRIAL_BALANCE, {"at": (NOW - timedelta(days=3)).isoformat()})

    balance = now["trialBalance"]
    assert balance["totalPoints"] == 0
    accounts = {a["account"]: a for a in balance["accounts"]}
    async with history.reading() as session:
        balances = await session.scalar(select(func.sum(CustomerRow.balance)))
    assert accounts[CUSTOMERS]["points"] == balances
    for account in accounts.values():
        assert Decimal(account["value"]) == Decimal("0.01") * account["points"]
    assert {a["account"] for a in balance["accounts"]} >= {
        "programme:points-issued",
        "programme:points-redeemed",
        CUSTOMERS,
    }
    expected = await from_the_journal(history, NOW - timedelta(days=3))
    assert {
        a["account"]: a["points"] for a in earlier["trialBalance"]["accounts"] if a["points"]
    } == (without_zeros(expected))


BALANCE_AT = (
    "query($id: ID!, $at: DateTime!) { customer(lookup: {id: $id}) { balance balanceAt(at: $at) } }"
)


async def test_a_customers_balance_at_a_moment_counts_movements_when_they_happened(
    gql: GraphQLClient,
) -> None:
    """A sale dated back three days counts from then, though it was recorded now."""
    await create_store(gql)
    customer = (await enroll(gql, email="when@example.com"))["id"]
    await earn(gql, customer, "today", [line("10.00")])
    await earn(
        gql, customer, "offline", [line("30.00")], occurredAt=(NOW - timedelta(days=3)).isoformat()
    )

    async def at(moment: datetime) -> dict[str, int]:
        found = await gql.data(BALANCE_AT, {"id": customer, "at": moment.isoformat()})
        return dict(found["customer"])

    assert await at(NOW - timedelta(days=4)) == {"balance": 40, "balanceAt": 0}
    assert await at(NOW - timedelta(days=2)) == {"balance": 40, "balanceAt": 30}
    assert await at(datetime.now(UTC)) == {"balance": 40, "balanceAt": 40}
