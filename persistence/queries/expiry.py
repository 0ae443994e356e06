"""What expires next for each customer, under the programme's expiry policy."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.expiry import Expiring, ExpiryKind, ExpiryPolicy
from persistence.expiry import ACTIVITY
from persistence.models import CustomerRow, JournalEntryRow, PointLotRow


async def expiring_next(
    session: AsyncSession, balances: Mapping[str, int], policy: ExpiryPolicy
) -> dict[str, Expiring]:
    """By customer (given with their balance): the points that expire next and when; those
    for whom nothing will are left out. One statement however many customers."""
    holding = sorted(customer for customer, balance in balances.items() if balance > 0)
    if policy.kind is ExpiryKind.NEVER or not holding:
        return {}
    if policy.kind is ExpiryKind.EARNED:
        return await _oldest_lots(session, holding, policy)
    return await _inactive_balances(session, holding, balances, policy)


async def _oldest_lots(
    session: AsyncSession, customer_ids: list[str], policy: ExpiryPolicy
) -> dict[str, Expiring]:
    """The points of each customer's oldest open lots (those earned at that same instant)."""
    lots = PointLotRow
    first = (
        select(lots.customer_id, func.min(lots.earned_at).label("earned_at"))
        .where(lots.customer_id.in_(customer_ids), lots.remaining > 0)
        .group_by(lots.customer_id)
        .subquery()
    )
    rows = await session.execute(
        select(lots.customer_id, lots.earned_at, func.sum(lots.remaining))
        .join(
            first,
            and_(lots.customer_id == first.c.customer_id, lots.earned_at == first.c.earned_at),
        )
        .where(lots.remaining > 0)
        .group_by(lots.customer_id, lots.earned_at)
    )
    return {
        customer: Expiring(int(points), policy.expires_at(earned_at))
        for customer, earned_at, points in rows
    }


async def _inactive_balances(
    session: AsyncSession,
    customer_ids: list[str],
    balances: Mapping[str, int],
    policy: ExpiryPolicy,
) -> dict[str, Expiring]:
    """The whole balance, at the end of the inactivity allowed since the last sale or
    redemption (or since enrolment)."""
    entries = JournalEntryRow
    last = (
        select(entries.customer_id, func.max(entries.created_at).label("active_at"))
        .where(entries.customer_id.in_(customer_ids), entries.kind.in_(ACTIVITY))
        .group_by(entries.customer_id)
        .subquery()
    )
    rows = await session.execute(
        select(CustomerRow.id, CustomerRow.enrolled_at, last.c.active_at)
        .outerjoin(last, last.c.customer_id == CustomerRow.id)
        .where(CustomerRow.id.in_(customer_ids))
    )
    return {
        customer: Expiring(balances[customer], policy.expires_at(active_at or enrolled_at))
        for customer, enrolled_at, active_at in rows
    }
