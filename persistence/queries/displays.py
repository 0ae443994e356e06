"""What a terminal's customer display shows: the display, and the customer on it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from domain.displays import Screen
from persistence.customers import customer_of
from persistence.displays import display_of
from persistence.models import CustomerRow, TerminalDisplayRow


async def screen(session: AsyncSession, terminal_id: str) -> Screen | None:
    row = await session.get(TerminalDisplayRow, terminal_id)
    if row is None:
        return None
    customer = None if row.customer_id is None else await session.get(CustomerRow, row.customer_id)
    return Screen(display_of(row), None if customer is None else customer_of(customer))
