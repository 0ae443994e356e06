"""The trial balance read: the last snapshot that still holds, and the movements since."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from persistence.database import one_snapshot
from persistence.ledger_snapshots import added, latest_snapshot, moved_between, settled_horizon


async def account_sums_at(
    session: AsyncSession, at: datetime, now: datetime, back: timedelta
) -> dict[str, int]:
    """Every account's balance from the movements that happened at or before `at`, in one
    snapshot of the database (a snapshot past what is settled now is not used)."""
    await one_snapshot(session)
    horizon = await settled_horizon(session, now, back)
    moment, sums = await latest_snapshot(session, min(at, horizon))
    return added(sums, await moved_between(session, moment, at, end_included=True))
