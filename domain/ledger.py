"""The double-entry points journal.

Every movement is one entry whose lines sum to zero. A line's amount is
signed: positive credits an account, negative debits it. A customer's points
account is a liability of the programme, so its balance is the sum of its
lines: earning credits it and debits `programme:points-issued`; redeeming
debits it and credits `programme:points-redeemed`; a bulk award credits it
and debits the campaign's `programme:promotions:<campaign>`; a manual adjustment
moves points between it and `programme:adjustments`. A refund (REVERSAL) credits
`points-issued` with the points taken back and debits `points-redeemed` with the
points given back; what the balance cannot cover is debited to the customer's
`owed:<id>` account, which their next credits pay off. Entries are
append-only; a correction is a new entry.

Each entry carries a hash of its content chained to the customer's entry before it (the
first to GENESIS), and the account keeps the hash of its last entry: altering, inserting
or removing an entry breaks the chain from there on (`loyalty verify-journal`). The chain
is per customer because every movement already locks its customer's account; one chain
for the whole programme would make every movement in every store wait on one lock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

POINTS_ISSUED = "programme:points-issued"
POINTS_REDEEMED = "programme:points-redeemed"
ADJUSTMENTS = "programme:adjustments"
# Points that expired unspent: the programme's breakage.
BREAKAGE = "programme:breakage"
# The hash a customer's first entry is chained to.
GENESIS = "0" * 64


def customer_account(customer_id: str) -> str:
    return f"customer:{customer_id}"


def owed_account(customer_id: str) -> str:
    """Points a customer owes after a refund took back points already spent."""
    return f"owed:{customer_id}"


def promotions_account(campaign_id: str | None) -> str:
    """Promotional expense, one account per campaign (awards outside a campaign share one)."""
    return f"programme:promotions:{campaign_id or 'uncategorised'}"


class TransactionKind(StrEnum):
    EARN = "EARN"
    REDEEM = "REDEEM"
    BULK_AWARD = "BULK_AWARD"
    ADJUST = "ADJUST"
    REVERSAL = "REVERSAL"
    EXPIRE = "EXPIRE"


@dataclass(frozen=True)
class JournalLine:
    account: str
    amount: int


class UnbalancedEntry(ValueError):
    """A programming error: an entry whose lines do not sum to zero."""


@dataclass(frozen=True)
class Actor:
    """Who made a movement, as their credentials say (never as the request says)."""

    staff_id: str
    role: str
    terminal_id: str | None


@dataclass(frozen=True)
class Movement:
    """Where and why a movement happened, and who made it."""

    store_id: str | None
    terminal_id: str | None
    sale_id: str | None
    idempotency_key: str | None
    occurred_at: datetime
    actor: Actor | None = None
    reason: str | None = None
    # When the server recorded it (None: when it happened); a till that was offline
    # sends occurred_at later.
    recorded_at: datetime | None = None

    @property
    def recorded(self) -> datetime:
        return self.recorded_at or self.occurred_at


@dataclass(frozen=True)
class JournalEntry:
    kind: TransactionKind
    customer_id: str
    points: int
    balance_after: int
    balance_version: int
    movement: Movement
    lines: tuple[JournalLine, ...]
    reward_id: str | None = None
    reverses_entry_id: int | None = None
    # SHA-256 of the entry's content chained to the customer's entry before it.
    hash: str | None = None

    def __post_init__(self) -> None:
        if sum(line.amount for line in self.lines) != 0:
            raise UnbalancedEntry(f"{self.kind} entry does not balance: {self.lines}")

    @classmethod
    def as_stored(cls, **values: Any) -> JournalEntry:
        """An entry as the database holds it, its balance unchecked: an entry whose lines
        were altered must still be read, so that reconciliation and verify-journal report
        it instead of failing on it."""
        entry = object.__new__(cls)
        for name, value in values.items():
            object.__setattr__(entry, name, value)
        return entry

    @property
    def balance_change(self) -> int:
        """What the entry's lines move on the customer's own account."""
        mine = customer_account(self.customer_id)
        return sum(line.amount for line in self.lines if line.account == mine)


def transfer(
    customer_id: str, points: int, counter_account: str, counter_points: int | None = None
) -> tuple[JournalLine, ...]:
    """Lines moving `points` into the customer's account (out of it when negative), against
    `counter_points` (by default the same) of the counter account."""
    counter = points if counter_points is None else counter_points
    lines = (
        JournalLine(customer_account(customer_id), points),
        JournalLine(counter_account, -counter),
    )
    return tuple(line for line in lines if line.amount)


def chained_hash(previous: str, entry: JournalEntry) -> str:
    """The hash of an entry's content as stored, chained to the hash of the entry before."""
    content = json.dumps([previous, *_content(entry)], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(content.encode()).hexdigest()


def _content(entry: JournalEntry) -> list[object]:
    movement, actor = entry.movement, entry.movement.actor
    return [
        entry.kind.value,
        entry.customer_id,
        entry.points,
        entry.balance_after,
        entry.balance_version,
        movement.store_id,
        movement.terminal_id,
        movement.sale_id,
        movement.idempotency_key,
        entry.reward_id,
        movement.reason,
        None if actor is None else [actor.staff_id, actor.role, actor.terminal_id],
        _instant(movement.recorded),
        _instant(movement.occurred_at),
        entry.reverses_entry_id,
        [[line.account, line.amount] for line in entry.lines],
    ]


def _instant(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class PostedEntry:
    """A journal entry as stored, with its id."""

    id: int
    entry: JournalEntry


@dataclass(frozen=True)
class ChainFinding:
    """Where a customer's chain of entries does not hold, and what that means."""

    customer_id: str
    entry_id: int | None
    problem: str


def chain_findings(
    customer_id: str, head: str, entries: Iterable[PostedEntry]
) -> list[ChainFinding]:
    """A customer's entries (in id order) checked against their chain and the account's
    last hash: one finding per place the chain breaks (none when nothing was touched)."""
    findings: list[ChainFinding] = []
    previous = GENESIS
    for posted in entries:
        stored, expected = posted.entry.hash, chained_hash(previous, posted.entry)
        if stored != expected:
            findings.append(ChainFinding(customer_id, posted.id, _broken(stored)))
        previous = stored or expected
    if head != previous:
        findings.append(ChainFinding(customer_id, None, LAST_HASH_DIFFERS))
    return findings


LAST_HASH_DIFFERS = (
    "the account's last hash is not its last entry's: entries removed from the end, "
    "or the account's hash altered"
)


def _broken(stored: str | None) -> str:
    if stored is None:
        return "the entry carries no hash: written around the application"
    return (
        "the hash does not match the entry's content and the entry before it: the entry "
        "was altered, or an entry was inserted or removed before it"
    )
