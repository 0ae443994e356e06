"""What every part of one rollup report reads with: the session, the range asked, its
time zone and scopes, and Core statements on the session's connection."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.analytics import PROGRAMME, AnalyticsRange

ALL_REWARDS = PROGRAMME
MONEY_OFF = ""


class ReadingContext:
    """The session and the range one report reads the rollups of."""

    def __init__(self, session: AsyncSession, asked: AnalyticsRange) -> None:
        self.session = session
        self.asked = asked
        self.zone = asked.zone_name
        self.scopes = asked.scopes
        self.single = len(self.scopes) == 1
        bind = session.bind
        self.postgresql = bind is not None and bind.dialect.name == "postgresql"
        self.planned_per_call = False

    async def execute(self, statement: Any) -> Any:
        """A Core statement on the session's connection: rows as tuples, without the
        ORM's per-row work (a long report reads tens of thousands)."""
        if self.postgresql and not self.session.in_transaction():
            # One snapshot for the whole report: its statements (the bins, then the values
            # in them) agree with each other while the worker commits.
            snapshot = {"isolation_level": "REPEATABLE READ"}
            connection = await self.session.connection(execution_options=snapshot)
        else:
            connection = await self.session.connection()
        if self.postgresql and not self.planned_per_call:
            # Each statement planned with its values: a generic plan cannot tell which
            # end of the gaps' two indexes holds fewer of a range's rows, nor how many
            # values seen a range's rows hold.
            await connection.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
            self.planned_per_call = True
        return await connection.execute(statement)

    async def scalar(self, statement: Any) -> Any:
        return (await self.execute(statement)).scalar()
