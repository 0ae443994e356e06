"""The journal is tamper-evident: every entry chained to its customer's entry before, the
database refusing UPDATE and DELETE, and `loyalty verify-journal` catching what was done
around the triggers (an edit, a removal in the middle or at the end)."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from dataclasses import replace

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from api.settings import Settings
from domain.ledger import GENESIS, LAST_HASH_DIFFERS, ChainFinding, JournalEntry, chained_hash
from persistence.database import Database
from persistence.journal import posted_entries
from persistence.journal_chain import checked_batches
from persistence.migrate import alembic_config
from persistence.models import CustomerRow, JournalEntryRow
from tests.conftest import loyalty_command


async def findings_in(database: Database) -> list[ChainFinding]:
    return [finding async for batch in checked_batches(database) for finding in batch.findings]


async def around_the_triggers(database: Database, *statements: str) -> None:
    """What someone with the database's owner rights could do: lift the triggers (and the
    foreign keys), write, put them back."""
    if database.is_sqlite:
        await asyncio.to_thread(_around_sqlite_triggers, str(database.url.database), statements)
        return
    async with database.write_sessions() as session, session.begin():
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            await session.execute(text(statement))


def _around_sqlite_triggers(path: str, statements: tuple[str, ...]) -> None:
    """A plain sqlite3 connection to the file: foreign keys off, as sqlite3 has them."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        triggers = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        ).fetchall()
        for name, _sql in triggers:
            connection.execute(f'DROP TRIGGER "{name}"')
        for statement in statements:
            connection.execute(statement)
        for _name, sql in triggers:
            connection.execute(sql)
        connection.execute("COMMIT")
    finally:
        connection.close()


async def an_entry_with_entries_after_it(database: Database) -> tuple[int, str, int]:
    """An entry (its id and customer) followed by another of the same customer (its id)."""
    async with database.reading() as session:
        found = await session.execute(
            text(
                "SELECT e.id, e.customer_id, MIN(n.id) FROM journal_entries e "
                "JOIN journal_entries n ON n.customer_id = e.customer_id AND n.id > e.id "
                "GROUP BY e.id, e.customer_id ORDER BY e.id LIMIT 1"
            )
        )
        entry_id, customer_id, next_id = found.one()
        return int(entry_id), str(customer_id), int(next_id)


async def test_a_demo_history_is_chained_end_to_end(history: Database) -> None:
    async with history.reading() as session:
        hashes = list(await session.scalars(select(JournalEntryRow.hash)))
    assert len(hashes) > 100
    assert all(value is not None and len(value) == 64 for value in hashes)
    assert len(set(hashes)) == len(hashes)
    assert await findings_in(history) == []


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE journal_entries SET points = points + 1",
        "DELETE FROM journal_lines",
        "UPDATE journal_lines SET amount = amount",
        "DELETE FROM journal_entries WHERE id = (SELECT MAX(id) FROM journal_entries)",
    ],
)
async def test_the_database_refuses_to_change_the_journal(
    history: Database, statement: str
) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        async with history.write_sessions() as session, session.begin():
            await session.execute(text(statement))
    assert await findings_in(history) == []


async def test_an_entry_edited_around_the_triggers_is_caught(history: Database) -> None:
    entry_id, customer_id, _ = await an_entry_with_entries_after_it(history)
    await around_the_triggers(
        history,
        f"UPDATE journal_entries SET balance_after = balance_after + 5 WHERE id = {entry_id}",
    )

    findings = await findings_in(history)

    assert [(f.customer_id, f.entry_id) for f in findings] == [(customer_id, entry_id)]
    assert "altered" in findings[0].problem


async def test_an_edit_with_its_hash_made_again_breaks_the_next_link(history: Database) -> None:
    """Recomputing the edited entry's own hash is not enough: the next entry was chained to
    the old one."""
    entry_id, customer_id, next_id = await an_entry_with_entries_after_it(history)
    async with history.reading() as session:
        found = await posted_entries(
            session, select(JournalEntryRow).where(JournalEntryRow.id == entry_id)
        )
        previous = await session.scalar(
            select(JournalEntryRow.hash)
            .where(JournalEntryRow.customer_id == customer_id, JournalEntryRow.id < entry_id)
            .order_by(JournalEntryRow.id.desc())
            .limit(1)
        )
    forged = _forged_hash(found[0].entry, previous)
    await around_the_triggers(
        history,
        f"UPDATE journal_entries SET reason = 'forged', hash = '{forged}' WHERE id = {entry_id}",
    )

    findings = await findings_in(history)

    assert [(f.customer_id, f.entry_id) for f in findings] == [(customer_id, next_id)]


def _forged_hash(entry: JournalEntry, previous: str | None) -> str:
    """What a forger who knows the algorithm would write for the edited entry."""
    forged = replace(entry, movement=replace(entry.movement, reason="forged"))
    return chained_hash(previous or GENESIS, forged)


async def test_an_entry_removed_from_the_middle_or_the_end_is_caught(history: Database) -> None:
    entry_id, customer_id, next_id = await an_entry_with_entries_after_it(history)
    async with history.reading() as session:
        last_id = await session.scalar(
            select(JournalEntryRow.id).order_by(JournalEntryRow.id.desc()).limit(1)
        )
        last_customer = await session.scalar(
            select(JournalEntryRow.customer_id).where(JournalEntryRow.id == last_id)
        )
    await around_the_triggers(
        history,
        *(
            statement
            for removed in (entry_id, last_id)
            for statement in (
                f"DELETE FROM journal_lines WHERE entry_id = {removed}",
                f"DELETE FROM journal_entries WHERE id = {removed}",
            )
        ),
    )

    findings = await findings_in(history)

    assert {(f.customer_id, f.entry_id) for f in findings} == {
        (customer_id, next_id),
        (last_customer, None),
    }
    assert ChainFinding(str(last_customer), None, LAST_HASH_DIFFERS) in findings


async def test_a_customers_last_hash_altered_is_caught(history: Database) -> None:
    async with history.reading() as session:
        customer_id = await session.scalar(select(CustomerRow.id).limit(1))
    await around_the_triggers(
        history, f"UPDATE customers SET journal_head = '{'f' * 64}' WHERE id = '{customer_id}'"
    )

    assert await findings_in(history) == [ChainFinding(str(customer_id), None, LAST_HASH_DIFFERS)]


def verify_journal(database_url: str) -> subprocess.CompletedProcess[str]:
    return loyalty_command("verify-journal", database_url=database_url)


async def test_loyalty_verify_journal_exits_non_zero_on_a_finding(
    history: Database, settings: Settings
) -> None:
    url = settings.database_url
    clean = await asyncio.to_thread(verify_journal, url)
    assert clean.returncode == 0, clean.stderr
    assert "every chain intact" in clean.stdout
    entry_id, customer_id, _ = await an_entry_with_entries_after_it(history)
    await around_the_triggers(
        history, f"UPDATE journal_entries SET points = points + 1 WHERE id = {entry_id}"
    )

    tampered = await asyncio.to_thread(verify_journal, url)

    assert tampered.returncode == 1
    assert f"customer {customer_id}, entry {entry_id}: the hash does not match" in tampered.stdout
    assert "1 finding(s)" in tampered.stdout


async def test_migrating_chains_the_entries_already_there_as_the_app_does(
    history: Database, settings: Settings
) -> None:
    """Down to 0010 (no hashes) and up again: the migration's chain is the app's."""
    async with history.reading() as session:
        posted = dict(
            (await session.execute(select(JournalEntryRow.id, JournalEntryRow.hash))).all()
        )
        heads = dict(
            (await session.execute(select(CustomerRow.id, CustomerRow.journal_head))).all()
        )
    await history.dispose()
    config = alembic_config(settings.database_url)
    await asyncio.to_thread(command.downgrade, config, "0010")
    await asyncio.to_thread(command.upgrade, config, "head")

    async with history.reading() as session:
        rechained = dict(
            (await session.execute(select(JournalEntryRow.id, JournalEntryRow.hash))).all()
        )
        heads_now = dict(
            (await session.execute(select(CustomerRow.id, CustomerRow.journal_head))).all()
        )
    assert rechained == posted
    assert heads_now == heads
    assert await findings_in(history) == []


async def test_a_line_added_to_an_entry_is_caught_not_a_failure(history: Database) -> None:
    """Inserting is not refused by the triggers; the entry no longer balances, and the
    check reads it as stored and reports it."""
    entry_id, customer_id, _ = await an_entry_with_entries_after_it(history)
    async with history.write_sessions() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO journal_lines (entry_id, account, amount) "
                f"VALUES ({entry_id}, 'programme:adjustments', 3)"
            )
        )

    assert [(f.customer_id, f.entry_id) for f in await findings_in(history)] == [
        (customer_id, entry_id)
    ]
