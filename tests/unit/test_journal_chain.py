"""Each entry's hash covers all it stores and the entry before it; a customer's chain
checked against the account's last hash finds each place it was touched, once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.accounts import Account
from domain.ledger import (
    GENESIS,
    LAST_HASH_DIFFERS,
    Actor,
    ChainFinding,
    JournalEntry,
    JournalLine,
    Movement,
    PostedEntry,
    chain_findings,
    chained_hash,
)

AT = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
CASHIER = Actor("cashier-1", "CASHIER", "T1")


def history() -> tuple[Account, list[PostedEntry]]:
    """An earn, a redemption and an adjustment, posted as ids 11, 12 and 13."""
    account = Account("c-1", balance=0, balance_version=0, lifetime_earned=0)
    entries = []
    for step, move in enumerate(("earn", "redeem", "adjust")):
        movement = Movement("S1", "T1", f"R-{step}", f"key-{step}", AT, CASHIER, "why")
        if move == "earn":
            account, entry = account.earn(50, movement)
        elif move == "redeem":
            account, entry = account.redeem(20, movement, "R1")
        else:
            account, entry = account.adjust(-5, movement)
        entries.append(PostedEntry(11 + step, entry))
    return account, entries


def test_entries_chain_from_genesis_and_the_account_keeps_the_last() -> None:
    account, entries = history()

    first, second, third = (posted.entry for posted in entries)
    assert first.hash == chained_hash(GENESIS, first)
    assert second.hash == chained_hash(str(first.hash), second)
    assert account.journal_head == third.hash == chained_hash(str(second.hash), third)
    assert chain_findings("c-1", account.journal_head, entries) == []


def _moved_an_hour(entry: JournalEntry) -> JournalEntry:
    return replace(entry, movement=replace(entry.movement, occurred_at=AT + timedelta(hours=1)))


@pytest.mark.parametrize(
    "edit",
    [
        lambda e: replace(e, points=e.points + 1),
        lambda e: replace(e, balance_after=e.balance_after + 1),
        lambda e: replace(e, reward_id="R2"),
        lambda e: replace(e, lines=tuple(JournalLine(x.account, -x.amount) for x in e.lines)),
        lambda e: replace(e, movement=replace(e.movement, store_id="S2")),
        lambda e: replace(e, movement=replace(e.movement, actor=Actor("x", "ADMIN", None))),
        lambda e: replace(e, movement=replace(e.movement, recorded_at=AT + timedelta(1))),
        _moved_an_hour,
    ],
)
def test_every_stored_field_is_in_the_hash(edit: object) -> None:
    _, entries = history()
    entry = entries[1].entry
    assert callable(edit)
    edited: JournalEntry = edit(entry)

    assert chained_hash(GENESIS, edited) != chained_hash(GENESIS, entry)


def test_an_altered_entry_is_found_where_it_is() -> None:
    account, entries = history()
    entries[1] = PostedEntry(12, replace(entries[1].entry, points=-2))

    assert [f.entry_id for f in chain_findings("c-1", account.journal_head, entries)] == [12]


def test_an_altered_entry_with_its_hash_made_again_breaks_the_next() -> None:
    account, entries = history()
    forged = replace(entries[1].entry, points=-2)
    forged = replace(forged, hash=chained_hash(str(entries[0].entry.hash), forged))
    entries[1] = PostedEntry(12, forged)

    assert [f.entry_id for f in chain_findings("c-1", account.journal_head, entries)] == [13]


def test_an_entry_removed_from_the_middle_breaks_the_next() -> None:
    account, entries = history()
    del entries[1]

    assert [f.entry_id for f in chain_findings("c-1", account.journal_head, entries)] == [13]


def test_the_last_entry_removed_is_found_by_the_accounts_last_hash() -> None:
    account, entries = history()

    assert chain_findings("c-1", account.journal_head, entries[:-1]) == [
        ChainFinding("c-1", None, LAST_HASH_DIFFERS)
    ]


def test_an_entry_without_a_hash_is_one_finding_and_the_chain_goes_on() -> None:
    account, entries = history()
    entries[0] = PostedEntry(11, replace(entries[0].entry, hash=None))

    findings = chain_findings("c-1", account.journal_head, entries)

    assert [(f.entry_id, "no hash" in f.problem) for f in findings] == [(11, True)]


def test_a_customer_without_entries_holds_at_genesis() -> None:
    assert chain_findings("c-2", GENESIS, []) == []
    assert chain_findings("c-2", "f" * 64, []) == [ChainFinding("c-2", None, LAST_HASH_DIFFERS)]
