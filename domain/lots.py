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
    def key(self) -> tuple[int, int]:
        """The lot, stored or not: a lot not yet stored is the one its entry opens."""
        return (0, self.id) if self.id is not None else (1, self.entry_id or 0)

    @property
    def age(self) -> tuple[datetime, bool, int]:
        """Oldest first; among lots earned at the same instant, in the order they opened."""
        return self.earned_at, self.id is None, self.id or 0


@dataclass(frozen=True)
class Taken:
    """Points a debit took from a lot (as the lot was before): how old the points spent
    were, and whose award they came from."""

    lot: Lot
    entry_id: int
    points: int
    spent_at: datetime


@dataclass(frozen=True)
class LotChanges:
    """What posting entries does to the lots: those to open, stored ones now emptier, and
    what each debit took from which lot."""

    opened: tuple[Lot, ...]
    spent: tuple[Lot, ...]
    taken: tuple[Taken, ...] = ()


def follow(open_lots: Iterable[Lot], posted: Sequence[PostedEntry]) -> LotChanges:
    """The lots after `posted` (in order), from the customers' open lots before them."""
    lots: defaultdict[str, list[Lot]] = defaultdict(list)
    for lot in open_lots:
        lots[lot.customer_id].append(lot)
    before = {lot.id: lot.remaining for held in lots.values() for lot in held}
    taken: list[Taken] = []
    for item in posted:
        customer_id, change = item.entry.customer_id, item.entry.balance_change
        if change > 0:
            lots[customer_id].append(_opened_by(item, change))
        elif change < 0:
            held = lots[customer_id]
            lots[customer_id] = spend(held, -change, item.entry.reverses_entry_id)
            taken += _taken(held, lots[customer_id], item)
    every = [lot for held in lots.values() for lot in held]
    opened = tuple(lot for lot in every if lot.id is None)
    spent = tuple(lot for lot in every if lot.id is not None and before[lot.id] != lot.remaining)
    return LotChanges(opened, spent, tuple(taken))


def _taken(held: Sequence[Lot], left: Sequence[Lot], debit: PostedEntry) -> list[Taken]:
    remaining = {lot.key: lot.remaining for lot in left}
    spent_at = debit.entry.movement.occurred_at
    return [
        Taken(lot, debit.id, lot.remaining - remaining[lot.key], spent_at)
        for lot in sorted(held, key=lambda lot: lot.age)
        if lot.remaining != remaining[lot.key]
    ]


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
