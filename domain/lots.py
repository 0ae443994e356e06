"""Point lots: the points of each credit, and how many of them are left.

Every credit to a customer's account opens a lot. A debit takes from the open
lots oldest first (FIFO), so redemptions spend the points that would expire
first and expiry takes exactly the lots old enough; a reversal takes back from
the lot of the entry it reverses first, so returning goods cannot renew older
points about to expire. The lots left open always add up to the balance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from domain.ledger import PostedEntry


@dataclass(frozen=True)
class Lot:
    """Points credited together. `id` is None for a lot opened by entries not yet stored."""

    id: int | None
    customer_id: str
    entry_id: int | None
    earned_at: datetime
    points: int
    remaining: int

    @property
    def age(self) -> tuple[datetime, bool, int]:
        """Oldest first; among lots earned at the same instant, in the order they opened."""
        return self.earned_at, self.id is None, self.id or 0


@dataclass(frozen=True)
class LotChanges:
    """What posting entries does to the lots: those to open, and stored ones now emptier."""

    opened: tuple[Lot, ...]
    spent: tuple[Lot, ...]


def follow(open_lots: Iterable[Lot], posted: Sequence[PostedEntry]) -> LotChanges:
    """The lots after `posted` (in order), from the customers' open lots before them."""
    lots: defaultdict[str, list[Lot]] = defaultdict(list)
    for lot in open_lots:
        lots[lot.customer_id].append(lot)
    before = {lot.id: lot.remaining for held in lots.values() for lot in held}
    for item in posted:
        customer_id, change = item.entry.customer_id, item.entry.balance_change
        if change > 0:
            lots[customer_id].append(_opened_by(item, change))
        elif change < 0:
            lots[customer_id] = spend(lots[customer_id], -change, item.entry.reverses_entry_id)
    every = [lot for held in lots.values() for lot in held]
    opened = tuple(lot for lot in every if lot.id is None)
    spent = tuple(lot for lot in every if lot.id is not None and before[lot.id] != lot.remaining)
    return LotChanges(opened, spent)


def spend(lots: Sequence[Lot], points: int, reverses_entry_id: int | None = None) -> list[Lot]:
    """The lots once `points` are taken: first from the lot of the entry a reversal
    reverses, then oldest first. Returns every lot, oldest first."""
    ordered = sorted(lots, key=lambda lot: lot.age)

    def not_its_own(index: int) -> bool:
        return reverses_entry_id is None or ordered[index].entry_id != reverses_entry_id

    # A stable sort: the reversed entry's own lot first, then the others oldest first.
    for index in sorted(range(len(ordered)), key=not_its_own):
        taken = min(points, ordered[index].remaining)
        if taken:
            ordered[index] = replace(ordered[index], remaining=ordered[index].remaining - taken)
            points -= taken
    return ordered


def _opened_by(posted: PostedEntry, points: int) -> Lot:
    entry = posted.entry
    return Lot(None, entry.customer_id, posted.id, entry.movement.occurred_at, points, points)
