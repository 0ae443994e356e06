"""Point lots: the points of each credit, and how many are left.

The journal keeps them in step with every entry it posts: a credit to a
customer's account opens a lot; a debit takes from the open lots oldest first
(FIFO), so redemptions spend the points that would expire first, and expiry
takes exactly the lots old enough. The lots left open always add up to the
balance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ledger import PostedEntry, customer_account
from persistence.models import PointLotRow, table_of


def customer_delta(posted: PostedEntry) -> int:
    mine = customer_account(posted.entry.customer_id)
    return sum(line.amount for line in posted.entry.lines if line.account == mine)


async def follow(session: AsyncSession, posted: Sequence[PostedEntry]) -> None:
    """Open a lot for every credit, and take every debit from the oldest open lots."""
    credits = []
    debits: dict[str, int] = defaultdict(int)
    for item in posted:
        delta = customer_delta(item)
        if delta > 0:
            credits.append(_lot(item, delta))
        elif delta < 0:
            debits[item.entry.customer_id] += await _take_back(session, item, -delta)
    if credits:
        await session.execute(insert(table_of(PointLotRow)), credits)
    if any(debits.values()):
        await _take(session, debits)


async def _take_back(session: AsyncSession, posted: PostedEntry, points: int) -> int:
    """A reversal takes its points back from the lot of the entry it reverses first (so a
    return cannot renew older points about to expire); returns what is left to take."""
    reversed_id = posted.entry.reverses_entry_id
    if reversed_id is None:
        return points
    lot = (
        await session.execute(
            select(PointLotRow.id, PointLotRow.remaining).where(
                PointLotRow.entry_id == reversed_id, PointLotRow.remaining > 0
            )
        )
    ).first()
    if lot is None:
        return points
    lot_id, remaining = int(lot[0]), int(lot[1])
    taken = min(points, remaining)
    await session.execute(
        update(PointLotRow).where(PointLotRow.id == lot_id).values(remaining=remaining - taken)
    )
    return points - taken


def _lot(posted: PostedEntry, points: int) -> dict[str, object]:
    return {
        "customer_id": posted.entry.customer_id,
        "entry_id": posted.id,
        "earned_at": posted.entry.movement.occurred_at,
        "points": points,
        "remaining": points,
    }


async def _take(session: AsyncSession, debits: dict[str, int]) -> None:
    rows = await session.execute(
        select(PointLotRow.id, PointLotRow.customer_id, PointLotRow.remaining)
        .where(PointLotRow.customer_id.in_(sorted(debits)), PointLotRow.remaining > 0)
        .order_by(PointLotRow.customer_id, PointLotRow.earned_at, PointLotRow.id)
    )
    left = dict(debits)
    changes = []
    for lot_id, customer_id, remaining in rows:
        taken = min(remaining, left[customer_id])
        if taken:
            left[customer_id] -= taken
            changes.append({"id": lot_id, "remaining": remaining - taken})
    if changes:
        await session.execute(update(PointLotRow), changes)


async def earned_before(session: AsyncSession, cutoff: datetime, limit: int) -> list[str]:
    """Customers holding points earned at or before `cutoff` (candidates for expiry)."""
    rows = await session.execute(
        select(PointLotRow.customer_id)
        .where(PointLotRow.remaining > 0, PointLotRow.earned_at <= cutoff)
        .group_by(PointLotRow.customer_id)
        .order_by(PointLotRow.customer_id)
        .limit(limit)
    )
    return list(rows.scalars())


async def open_before(session: AsyncSession, customer_id: str, cutoff: datetime) -> int:
    """The customer's points earned at or before `cutoff` and not yet spent."""
    total = await session.scalar(
        select(func.coalesce(func.sum(PointLotRow.remaining), 0)).where(
            PointLotRow.customer_id == customer_id,
            PointLotRow.remaining > 0,
            PointLotRow.earned_at <= cutoff,
        )
    )
    return int(total or 0)


async def oldest_open(session: AsyncSession, customer_id: str) -> tuple[datetime, int] | None:
    """When the customer's oldest unspent points were earned, and how many were earned then."""
    row = (
        await session.execute(
            select(PointLotRow.earned_at, func.sum(PointLotRow.remaining))
            .where(PointLotRow.customer_id == customer_id, PointLotRow.remaining > 0)
            .group_by(PointLotRow.earned_at)
            .order_by(PointLotRow.earned_at)
            .limit(1)
        )
    ).first()
    return None if row is None else (row[0], int(row[1]))
