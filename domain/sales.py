"""Sales as the programme records them: what was bought, earned and spent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from domain.ledger import PostedEntry
from domain.points import SaleLine
from domain.refunds import RefundOutcome, SoldLine
from domain.rules import EarnCalculation


@dataclass(frozen=True)
class RecordedSale:
    """A sale to store with the entry that earned on it. `points` is what the rules gave
    (before any owed points were paid off from it)."""

    earned: PostedEntry
    customer_id: str
    store_id: str
    terminal_id: str | None
    sale_ref: str | None
    occurred_at: datetime
    lines: tuple[SaleLine, ...]
    calculation: EarnCalculation
    discount: Decimal = Decimal(0)
    redeemed: PostedEntry | None = None

    @property
    def points(self) -> int:
        return self.calculation.points

    @property
    def points_redeemed(self) -> int:
        return 0 if self.redeemed is None else -self.redeemed.entry.points


@dataclass(frozen=True)
class SoldSale:
    """A recorded sale as a refund sees it."""

    id: int
    entry_id: int
    customer_id: str
    store_id: str
    points: int
    points_redeemed: int
    lines: tuple[SoldLine, ...]
    money_paid: Decimal


@dataclass(frozen=True)
class Refund:
    sale_id: int
    outcome: RefundOutcome
    points_owed: int
