"""What a terminal's customer display shows: the display, and the customer on it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from domain.displays import Display
from persistence.displays import display_of
from persistence.models import CustomerRow, TerminalDisplayRow


@dataclass(frozen=True)
class DisplayView:
    display: Display
    customer_name: str | None
    balance: int | None


async def display_view(session: AsyncSession, terminal_id: str) -> DisplayView | None:
    row = await session.get(TerminalDisplayRow, terminal_id)
    if row is None:
        return None
    customer = None if row.customer_id is None else await session.get(CustomerRow, row.customer_id)
    return DisplayView(
        display=display_of(row),
        customer_name=None if customer is None else customer.name,
        balance=None if customer is None else customer.balance,
    )
