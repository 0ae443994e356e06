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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

POINTS_ISSUED = "programme:points-issued"
POINTS_REDEEMED = "programme:points-redeemed"
ADJUSTMENTS = "programme:adjustments"
# Points that expired unspent: the programme's breakage.
BREAKAGE = "programme:breakage"


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

    def __post_init__(self) -> None:
        if sum(line.amount for line in self.lines) != 0:
            raise UnbalancedEntry(f"{self.kind} entry does not balance: {self.lines}")

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


@dataclass(frozen=True)
class PostedEntry:
    """A journal entry as stored, with its id."""

    id: int
    entry: JournalEntry
