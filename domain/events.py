"""Facts the rest of the system hears about once they are committed."""

from __future__ import annotations

from dataclasses import dataclass

from domain.ledger import PostedEntry


@dataclass(frozen=True)
class BalanceChanged:
    """A committed journal entry that changed a customer's balance: the entry itself is
    what every subscriber is told, as the journal keeps it."""

    posted: PostedEntry


@dataclass(frozen=True)
class DisplayChanged:
    """The POS changed what a terminal's customer display shows."""

    terminal_id: str
    version: int


@dataclass(frozen=True)
class TilesChanged:
    """Today's figures of a store changed (the rollups counted new movements there)."""

    store_id: str


Event = BalanceChanged | DisplayChanged | TilesChanged
