"""The books' closes and reopens, and the lock that makes a close safe under load.

A close takes an EXCLUSIVE lock on the customers table. Every movement locks its
customers' rows (ROW SHARE) before it reads how the books stand, and holds that until it
commits; so the close waits for the movements in flight, and those after it wait for the
close and then see it. Reads (lookups, reports) go on meanwhile. On SQLite the one writer
at a time gives the same.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.periods import PeriodAction, PeriodChange
from persistence.base import table_of
from persistence.models import PeriodChangeRow
from persistence.records import actor_columns, actor_of, columns_of, record_of


class SqlAlchemyPeriodRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self) -> None:
        """Wait for every movement in flight; hold new ones until this transaction ends."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(text("LOCK TABLE customers IN EXCLUSIVE MODE"))

    async def closed_until(self) -> datetime | None:
        return await closed_until(self.session)

    async def add(self, change: PeriodChange) -> None:
        values = columns_of(
            change, left_out=("actor",), action=change.action.value
        ) | actor_columns("changed_by", change.actor)
        await self.session.execute(table_of(PeriodChangeRow).insert().values(values))

    async def history(self) -> list[PeriodChange]:
        rows = await self.session.scalars(select(PeriodChangeRow).order_by(PeriodChangeRow.id))
        return [_change_of(row) for row in rows]


# Before when nothing may be recorded: the last change's (none: nothing is closed).
CLOSED_UNTIL = select(PeriodChangeRow.closed_until).order_by(PeriodChangeRow.id.desc()).limit(1)


async def closed_until(session: AsyncSession) -> datetime | None:
    """Before when nothing may be recorded (None: nothing is closed)."""
    found: datetime | None = await session.scalar(CLOSED_UNTIL)
    return found


def _change_of(row: PeriodChangeRow) -> PeriodChange:
    actor = actor_of(row, "changed_by")
    assert actor is not None, "a period change is always made by someone"
    return record_of(PeriodChange, row, action=PeriodAction(row.action), actor=actor)
