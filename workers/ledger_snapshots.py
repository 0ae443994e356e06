"""The snapshot worker: the trial balance kept at every UTC midnight (and at the end of a
closed period) before which nothing can be recorded any more, a month of them per
transaction, so a trial balance reads at most the last days of the journal."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.trial_balance import midnights_between, settled_until
from persistence.ledger_snapshots import (
    added,
    drop_snapshots_after,
    latest_snapshot,
    moved_between,
    take_snapshot,
)
from persistence.models import JournalEntryRow
from persistence.periods import closed_until
from workers.base import Worker

logger = logging.getLogger(__name__)

SNAPSHOTS_A_TRANSACTION = 31


@dataclass
class SnapshotWorker(Worker):
    # How far back a movement may still be dated (the till's window and a margin).
    back: timedelta
    interval_seconds: float

    async def run(self) -> None:
        while self.running:
            try:
                await self.catch_up()
            except Exception:
                logger.exception("taking the trial balance's snapshots failed; it will run again")
            await self.pause(self.interval_seconds)

    async def catch_up(self) -> int:
        """Snapshots until every settled one is taken; returns how many were."""
        taken = 0
        while self.running and (batch := await self.take_some()):
            taken += batch
        return taken

    async def take_some(self) -> int:
        async with self.database.writing() as session, session.begin():
            closed = await closed_until(session)
            horizon = settled_until(self.clock(), closed, self.back)
            # A reopened period, or a longer window, unsettles what was after its start.
            await drop_snapshots_after(session, horizon)
            last, sums = await latest_snapshot(session, horizon)
            moments = await _moments(session, last, horizon, closed)
            for moment in moments[:SNAPSHOTS_A_TRANSACTION]:
                sums = added(sums, await moved_between(session, last, moment, end_included=False))
                await take_snapshot(session, moment, sums)
                last = moment
        return min(len(moments), SNAPSHOTS_A_TRANSACTION)


async def _moments(
    session: AsyncSession, last: datetime | None, horizon: datetime, closed: datetime | None
) -> list[datetime]:
    after = last or await session.scalar(select(func.min(JournalEntryRow.occurred_at)))
    if after is None:
        return []
    moments = set(midnights_between(after, horizon))
    if closed is not None and closed <= horizon and (last is None or closed > last):
        moments.add(closed)
    return sorted(moments)
