"""Facts the rest of the system hears about once they are committed."""

from __future__ import annotations

from dataclasses import dataclass

from domain.ledger import PostedEntry


@dataclass(frozen=True)
class BalanceChanged:
    customer_id: str
    balance: int
    balance_version: int
    delta: int
    posted: PostedEntry

    @classmethod
    def of(cls, posted: PostedEntry) -> BalanceChanged:
        entry = posted.entry
        return cls(
            customer_id=entry.customer_id,
            balance=entry.balance_after,
            balance_version=entry.balance_version,
            delta=entry.points,
            posted=posted,
        )


@dataclass(frozen=True)
class DisplayChanged:
    """The POS changed what a terminal's customer display shows."""

    terminal_id: str
    version: int


Event = BalanceChanged | DisplayChanged
