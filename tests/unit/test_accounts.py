"""A points account: what earning and redeeming do to it, and the journal entry each writes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from domain.accounts import Account
from domain.errors import InsufficientPoints, InvalidInput
from domain.ledger import (
    GENESIS,
    POINTS_ISSUED,
    POINTS_REDEEMED,
    JournalEntry,
    JournalLine,
    Movement,
    TransactionKind,
    UnbalancedEntry,
    chained_hash,
    customer_account,
)

AT = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
MOVEMENT = Movement("S1", "T1", "R-1", "key-1", AT)
ACCOUNT = Account("c-1", balance=100, balance_version=7, lifetime_earned=250)


def test_earn_adds_to_the_balance_and_to_lifetime_earned() -> None:
    account, entry = ACCOUNT.earn(30, MOVEMENT)

    assert account == Account(
        "c-1",
        balance=130,
        balance_version=8,
        lifetime_earned=280,
        journal_head=chained_hash(GENESIS, entry),
    )


def test_earn_leaves_the_original_account_as_it_was() -> None:
    original = Account("c-1", balance=100, balance_version=7, lifetime_earned=250)

    original.earn(30, MOVEMENT)

    assert original == Account("c-1", balance=100, balance_version=7, lifetime_earned=250)


def test_earn_credits_the_customer_and_debits_points_issued() -> None:
    _, entry = ACCOUNT.earn(30, MOVEMENT)

    assert entry.lines == (
        JournalLine(customer_account("c-1"), 30),
        JournalLine(POINTS_ISSUED, -30),
    )
    assert sum(line.amount for line in entry.lines) == 0


def test_earn_entry_records_the_movement_and_the_balance_after() -> None:
    _, entry = ACCOUNT.earn(30, MOVEMENT)

    assert entry.kind is TransactionKind.EARN
    assert entry.customer_id == "c-1"
    assert entry.points == 30
    assert entry.balance_after == 130
    assert entry.balance_version == 8
    assert entry.movement == MOVEMENT
    assert entry.reward_id is None


def test_earning_zero_points_changes_nothing_but_the_chain_and_writes_no_lines() -> None:
    account, entry = ACCOUNT.earn(0, MOVEMENT)

    assert account == replace(ACCOUNT, journal_head=chained_hash(GENESIS, entry))
    assert entry.points == 0
    assert entry.balance_version == 7
    assert entry.balance_after == 100
    assert entry.lines == ()


def test_earn_refuses_negative_points() -> None:
    with pytest.raises(InvalidInput):
        ACCOUNT.earn(-1, MOVEMENT)


@pytest.mark.parametrize("points", [1, 40, 100])
def test_redeem_takes_from_the_balance_but_not_from_lifetime_earned(points: int) -> None:
    account, entry = ACCOUNT.redeem(points, MOVEMENT)

    assert account == Account(
        "c-1",
        balance=100 - points,
        balance_version=8,
        lifetime_earned=250,
        journal_head=chained_hash(GENESIS, entry),
    )
    assert entry.points == -points
    assert entry.balance_after == 100 - points
    assert entry.balance_version == 8


def test_redeem_debits_the_customer_and_credits_points_redeemed() -> None:
    _, entry = ACCOUNT.redeem(40, MOVEMENT, reward_id="coffee")

    assert entry.kind is TransactionKind.REDEEM
    assert entry.reward_id == "coffee"
    assert entry.lines == (
        JournalLine(customer_account("c-1"), -40),
        JournalLine(POINTS_REDEEMED, 40),
    )
    assert sum(line.amount for line in entry.lines) == 0


def test_redeem_refuses_more_points_than_the_balance() -> None:
    original = Account("c-1", balance=100, balance_version=7, lifetime_earned=250)

    with pytest.raises(InsufficientPoints) as refused:
        original.redeem(101, MOVEMENT)

    assert refused.value.field == ("input", "points")
    assert original == Account("c-1", balance=100, balance_version=7, lifetime_earned=250)


def test_redeem_refuses_any_points_from_an_empty_account() -> None:
    with pytest.raises(InsufficientPoints):
        Account("c-2", balance=0, balance_version=0, lifetime_earned=0).redeem(1, MOVEMENT)


@pytest.mark.parametrize("points", [0, -1, -100])
def test_redeem_refuses_zero_or_negative_points(points: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        ACCOUNT.redeem(points, MOVEMENT)

    assert refused.value.field == ("input", "points")
    assert ACCOUNT.balance == 100


def test_balance_version_counts_only_real_changes() -> None:
    account = Account("c-3", balance=0, balance_version=0, lifetime_earned=0)
    account, _ = account.earn(10, MOVEMENT)
    account, _ = account.earn(0, MOVEMENT)
    account, _ = account.redeem(4, MOVEMENT)
    account, last = account.earn(5, MOVEMENT)

    assert account == Account(
        "c-3", balance=11, balance_version=3, lifetime_earned=15, journal_head=str(last.hash)
    )


@pytest.mark.parametrize(
    "amounts",
    [
        pytest.param((10,), id="one line"),
        pytest.param((10, -9), id="off by one"),
        pytest.param((10, -5, -4), id="three lines"),
    ],
)
def test_journal_entry_refuses_lines_that_do_not_sum_to_zero(amounts: tuple[int, ...]) -> None:
    lines = tuple(JournalLine(f"account-{i}", amount) for i, amount in enumerate(amounts))

    with pytest.raises(UnbalancedEntry):
        JournalEntry(TransactionKind.ADJUST, "c-1", 10, 110, 8, MOVEMENT, lines)


def test_journal_entry_accepts_balanced_lines() -> None:
    lines = (JournalLine("a", 10), JournalLine("b", -4), JournalLine("c", -6))

    entry = JournalEntry(TransactionKind.ADJUST, "c-1", 10, 110, 8, MOVEMENT, lines)

    assert entry.lines == lines
