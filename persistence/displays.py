"""The terminal displays' current state."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from domain.displays import Display
from persistence.models import TerminalDisplayRow
from persistence.records import columns_of, record_of


class SqlAlchemyDisplayRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, terminal_id: str) -> Display | None:
        row = await self.session.get(TerminalDisplayRow, terminal_id, with_for_update=True)
        return None if row is None else display_of(row)

    async def save(self, display: Display) -> None:
        await self.session.merge(TerminalDisplayRow(**columns_of(display)))


def display_of(row: TerminalDisplayRow) -> Display:
    return record_of(Display, row)
