"""Events between processes: what one process encodes, another decodes to the same value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.events import BalanceChanged, DisplayChanged, Event
from domain.ledger import (
    POINTS_ISSUED,
    Actor,
    JournalEntry,
    JournalLine,
    Movement,
    PostedEntry,
    TransactionKind,
    owed_account,
    transfer,
)
from subscriptions.messages import from_json, to_json

AT = datetime(2026, 11, 22, 12, 0, 0, 123456, tzinfo=UTC)


def refund_entry() -> PostedEntry:
    """A reversal with everything a movement can carry: who, where, why, what it reverses."""
    movement = Movement("S1", "T1", "R-1", "refund-1", AT, Actor("ada", "manager", "T1"), "damaged")
    lines = (
        JournalLine("customer:c1", -3),
        JournalLine(POINTS_ISSUED, 5),
        JournalLine(owed_account("c1"), -2),
    )
    entry = JournalEntry(
        TransactionKind.REVERSAL, "c1", -3, 0, 7, movement, lines, reverses_entry_id=41
    )
    return PostedEntry(42, entry)


def bare_entry() -> PostedEntry:
    """An award from a job: no store, terminal, sale or actor; a time with another offset."""
    at = datetime(2026, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=2)))
    movement = Movement(None, None, None, "award-1", at)
    entry = JournalEntry(
        TransactionKind.BULK_AWARD, "c2", 10, 10, 1, movement, transfer("c2", 10, "p:x")
    )
    return PostedEntry(7, entry)


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(BalanceChanged(refund_entry()), id="a reversal, all fields"),
        pytest.param(BalanceChanged(bare_entry()), id="an award, few fields"),
        pytest.param(DisplayChanged("T1", 3), id="a display"),
    ],
)
def test_an_event_decodes_to_the_value_that_was_encoded(event: Event) -> None:
    decoded = from_json(to_json(event))

    assert decoded == event
    if isinstance(decoded, BalanceChanged):
        assert decoded.posted.entry.kind is event.posted.entry.kind  # type: ignore[union-attr]


def test_an_entry_whose_balance_change_was_read_still_travels() -> None:
    """What the journal worked out about an entry is not part of the message."""
    posted = refund_entry()
    assert posted.entry.balance_change == -3

    assert from_json(to_json(BalanceChanged(posted))) == BalanceChanged(posted)


def test_a_message_of_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown message type"):
        from_json('{"type": "gossip"}')
