"""Reconciliation: a demo history balances on every check; each kind of damage fails the
check that compares it, with the difference in points; GraphQL answers admins, and
`loyalty reconcile` exits non-zero on any difference."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text

from api.settings import Settings
from domain.reconciliation import Reconciliation
from persistence.database import Database
from persistence.models import JournalEntryRow, OutboxRow
from persistence.queries.reconciliation import Bounds, reconciliation
from tests.conftest import GraphQLClient, loyalty_command
from tests.integration.test_journal_chain import around_the_triggers

CHECKS = [
    "entries-balanced",
    "trial-balance",
    "balances-match-journal",
    "points-owed-match-journal",
    "lots-match-balances",
    "liability-matches-balances",
    "outbox-published",
    "gl-export-matches-movements",
]
BOUNDS = Bounds(60, ZoneInfo("UTC"), Decimal("0.01"), timedelta(days=7, hours=1))


async def books(database: Database) -> Reconciliation:
    async with database.reading() as session:
        return await reconciliation(session, datetime.now(UTC), BOUNDS)


def failing(found: Reconciliation) -> dict[str, int]:
    return {check.name: check.difference for check in found.checks if not check.holds}


async def a_customer(database: Database) -> str:
    async with database.reading() as session:
        found = await session.execute(
            text("SELECT id FROM customers WHERE balance > 10 ORDER BY id LIMIT 1")
        )
        return str(found.scalar_one())


async def test_a_demo_history_balances_on_every_check(history: Database) -> None:
    found = await books(history)

    assert [check.name for check in found.checks] == CHECKS
    assert found.balanced, found.checks
    assert all(check.difference == 0 and check.detail for check in found.checks)


async def test_a_cached_balance_off_by_five_fails_the_checks_that_see_it(
    history: Database,
) -> None:
    customer = await a_customer(history)
    async with history.write_sessions() as session, session.begin():
        await session.execute(
            text("UPDATE customers SET balance = balance + 5 WHERE id = :id"), {"id": customer}
        )

    found = await books(history)

    assert failing(found) == {
        "balances-match-journal": 5,
        "lots-match-balances": 5,
        "liability-matches-balances": 5,
    }
    [check] = [c for c in found.checks if c.name == "balances-match-journal"]
    assert check.detail is not None
    assert customer in check.detail


async def test_an_entry_that_does_not_balance_fails_the_entry_and_the_trial_balance(
    history: Database,
) -> None:
    """A line added to an entry (inserting is not refused by the triggers)."""
    async with history.write_sessions() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO journal_lines (entry_id, account, amount) "
                "SELECT MIN(id), 'programme:adjustments', 3 FROM journal_entries"
            )
        )

    assert failing(await books(history)) == {
        "entries-balanced": 3,
        "trial-balance": 3,
        "liability-matches-balances": 3,
        # The entry's day's journal no longer balances either (the history is within the
        # two months the check reads).
        "gl-export-matches-movements": 1,
    }


async def test_points_owed_that_the_journal_does_not_owe_fail(history: Database) -> None:
    customer = await a_customer(history)
    await around_the_triggers(
        history, f"UPDATE customers SET points_owed = points_owed + 7 WHERE id = '{customer}'"
    )

    assert failing(await books(history)) == {
        "points-owed-match-journal": 7,
        "liability-matches-balances": 7,
    }


async def test_a_lot_that_does_not_match_the_balance_fails(history: Database) -> None:
    customer = await a_customer(history)
    async with history.write_sessions() as session, session.begin():
        await session.execute(
            text(
                "UPDATE point_lots SET remaining = remaining - 2 WHERE id = "
                "(SELECT MAX(id) FROM point_lots WHERE customer_id = :id AND remaining >= 2)"
            ),
            {"id": customer},
        )

    assert failing(await books(history)) == {"lots-match-balances": 2}


async def test_a_change_left_unpublished_past_the_bound_fails(history: Database) -> None:
    old = datetime.now(UTC) - timedelta(minutes=5)
    async with history.write_sessions() as session, session.begin():
        last = select(func.max(JournalEntryRow.id)).scalar_subquery()
        await session.execute(insert(OutboxRow).values(entry_id=last, created_at=old))

    assert failing(await books(history)) == {"outbox-published": 1}


RECONCILE = """{ reconciliation { balanced checks { name holds difference detail } } }"""


async def test_an_admin_reads_the_reconciliation_over_graphql(
    history: Database, gql: GraphQLClient
) -> None:
    data = (await gql.data(RECONCILE))["reconciliation"]

    assert data["balanced"] is True
    assert [check["name"] for check in data["checks"]] == CHECKS
    assert {check["difference"] for check in data["checks"]} == {0}


def loyalty_reconcile(database_url: str) -> subprocess.CompletedProcess[str]:
    return loyalty_command("reconcile", database_url=database_url)


async def test_loyalty_reconcile_exits_non_zero_on_a_difference(
    history: Database, settings: Settings
) -> None:
    clean = await asyncio.to_thread(loyalty_reconcile, settings.database_url)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    customer = await a_customer(history)
    async with history.write_sessions() as session, session.begin():
        await session.execute(
            text("UPDATE customers SET balance = balance - 1 WHERE id = :id"), {"id": customer}
        )

    damaged = await asyncio.to_thread(loyalty_reconcile, settings.database_url)

    assert damaged.returncode == 1
    assert "balances-match-journal" in damaged.stdout
    assert "NO" in damaged.stdout
