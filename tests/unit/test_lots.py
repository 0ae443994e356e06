"""The FIFO lot rule: which lots a debit spends, and the lots posting entries opens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.ledger import (
    POINTS_ISSUED,
    POINTS_REDEEMED,
    JournalEntry,
    Movement,
    PostedEntry,
    TransactionKind,
    transfer,
)
from domain.lots import Lot, follow, spend

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def lot(lot_id: int, days: int, remaining: int, entry_id: int | None = None) -> Lot:
    return Lot(lot_id, "c1", entry_id or lot_id * 100, T0 + timedelta(days=days), 50, remaining)


def posted(entry_id: int, points: int, days: int = 30, reverses: int | None = None) -> PostedEntry:
    kind = TransactionKind.EARN if points > 0 else TransactionKind.REDEEM
    counter = POINTS_ISSUED if points > 0 else POINTS_REDEEMED
    movement = Movement("S1", None, None, f"k{entry_id}", T0 + timedelta(days=days))
    lines = transfer("c1", points, counter)
    entry = JournalEntry(kind, "c1", points, 0, 0, movement, lines, reverses_entry_id=reverses)
    return PostedEntry(entry_id, entry)


def left(lots: list[Lot]) -> dict[int | None, int]:
    return {item.id: item.remaining for item in lots}


@pytest.mark.parametrize(
    ("points", "reverses", "expected"),
    [
        pytest.param(5, None, {1: 5, 2: 10, 3: 10}, id="from the oldest lot"),
        pytest.param(12, None, {1: 0, 2: 8, 3: 10}, id="across lots, oldest first"),
        pytest.param(30, None, {1: 0, 2: 0, 3: 0}, id="everything"),
        pytest.param(4, 300, {1: 10, 2: 10, 3: 6}, id="a reversal from its own sale's lot"),
        pytest.param(14, 300, {1: 6, 2: 10, 3: 0}, id="a reversal, then oldest first"),
        pytest.param(4, 999, {1: 6, 2: 10, 3: 10}, id="a reversal whose lot is gone"),
    ],
)
def test_a_debit_spends_the_lots_in_order(
    points: int, reverses: int | None, expected: dict[int, int]
) -> None:
    lots = [lot(3, 20, 10), lot(1, 0, 10), lot(2, 10, 10)]

    assert left(spend(lots, points, reverses)) == expected


def test_lots_earned_at_the_same_instant_are_spent_in_the_order_they_opened() -> None:
    lots = [lot(2, 0, 10), lot(1, 0, 10)]

    assert left(spend(lots, 10)) == {1: 0, 2: 10}


def test_a_credit_opens_a_lot_of_its_points_when_it_happened() -> None:
    changes = follow([], [posted(7, 25, days=3)])

    assert changes.spent == ()
    assert changes.opened == (Lot(None, "c1", 7, T0 + timedelta(days=3), 25, 25),)


def test_a_debit_reports_only_the_stored_lots_it_changed() -> None:
    stored = [lot(1, 0, 10), lot(2, 10, 10)]

    changes = follow(stored, [posted(8, -4)])

    assert changes.opened == ()
    assert left(list(changes.spent)) == {1: 6}


def test_entries_of_one_batch_follow_each_other_in_order() -> None:
    """A credit then a debit for the same customer: the debit may spend the new lot."""
    stored = [lot(1, 0, 3)]

    changes = follow(stored, [posted(8, 10, days=40), posted(9, -8, days=41)])

    assert left(list(changes.spent)) == {1: 0}
    assert [(new.entry_id, new.points, new.remaining) for new in changes.opened] == [(8, 10, 5)]
