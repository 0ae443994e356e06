"""The loyalty liability rolled forward period by period, for the IFRS 15.116 disclosure:
opening + issued + awarded - redeemed - expired + adjusted + reversed = closing, in points
and in money (each movement valued at the point value in force when it happened, so the
money figures are the GL export's)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.ledger import TransactionKind
from domain.valuation import Effective

# The columns, each with the kind of movement it holds and its sign in the disclosure.
COLUMNS = (
    ("issued", TransactionKind.EARN, 1),
    ("awarded", TransactionKind.BULK_AWARD, 1),
    ("redeemed", TransactionKind.REDEEM, -1),
    ("expired", TransactionKind.EXPIRE, -1),
    ("adjusted", TransactionKind.ADJUST, 1),
    ("reversed", TransactionKind.REVERSAL, 1),
)


@dataclass(frozen=True)
class Figures:
    """A period's movements of the liability by column (redeemed and expired as positive
    amounts that reduce it)."""

    points: Mapping[str, int]
    value: Mapping[str, Decimal]


def figures(moves: Sequence[tuple[Decimal, Mapping[str, int]]]) -> Figures:
    """From the liability's movement by kind in each stretch of one point value."""
    points = {name: 0 for name, _, _ in COLUMNS}
    value = {name: Decimal(0) for name, _, _ in COLUMNS}
    for point_value, by_kind in moves:
        for name, kind, sign in COLUMNS:
            moved = sign * by_kind.get(kind.value, 0)
            points[name] += moved
            value[name] += point_value * moved
    return Figures(points, value)


def net(amounts: Mapping[str, int] | Mapping[str, Decimal]) -> Decimal:
    """What the columns add to the liability."""
    signs = {name: sign for name, _, sign in COLUMNS}
    return sum((Decimal(amount) * signs[name] for name, amount in amounts.items()), Decimal(0))


def month_starts(start: datetime, end: datetime, zone: ZoneInfo) -> list[datetime]:
    """The period edges: `start`, each local month start in between, `end`."""
    local = start.astimezone(zone)
    year, month = local.year, local.month
    edges = [start]
    while True:
        month, year = (1, year + 1) if month == 12 else (month + 1, year)
        edge = datetime.combine(local.date().replace(year=year, month=month, day=1), time(), zone)
        if edge >= end:
            return [*edges, end]
        edges.append(edge)


def stretches(
    start: datetime | None, end: datetime, values: Sequence[Effective[Decimal]], default: Decimal
) -> list[tuple[datetime | None, datetime, Decimal]]:
    """[start, end) cut where the point value changes, each piece with its value."""
    cuts = [
        item
        for item in values
        if (start is None or item.effective_from > start) and item.effective_from < end
    ]
    earlier = [item.value for item in values if start is not None and item.effective_from <= start]
    value = earlier[-1] if earlier else default
    pieces: list[tuple[datetime | None, datetime, Decimal]] = []
    edge = start
    for item in cuts:
        pieces.append((edge, item.effective_from, value))
        edge, value = item.effective_from, item.value
    pieces.append((edge, end, value))
    return pieces


@dataclass(frozen=True)
class LiabilityPeriod:
    """The liability account's period; beside it, the breakage recognised in advance at its
    start and end (the contra account's debit balance, 0 without an expected breakage
    rate: domain.breakage), which the net contract liability is the value less."""

    start: datetime
    end: datetime
    opening_points: int
    opening_value: Decimal
    moved: Figures
    opening_in_advance: Decimal = Decimal(0)
    closing_in_advance: Decimal = Decimal(0)

    @property
    def closing_points(self) -> int:
        return self.opening_points + int(net(self.moved.points))

    @property
    def closing_value(self) -> Decimal:
        return self.opening_value + net(self.moved.value)
