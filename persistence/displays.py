"""The terminal displays' current state."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from domain.displays import Display
from persistence.models import TerminalDisplayRow


class SqlAlchemyDisplayRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, terminal_id: str) -> Display | None:
        row = await self.session.get(TerminalDisplayRow, terminal_id, with_for_update=True)
        return None if row is None else display_of(row)

    async def save(self, display: Display) -> None:
        await self.session.merge(
            TerminalDisplayRow(
                terminal_id=display.terminal_id,
                store_id=display.store_id,
                customer_id=display.customer_id,
                cart_points=display.cart_points,
                cart_total=display.cart_total,
                version=display.version,
                updated_at=display.updated_at,
            )
        )


def display_of(row: TerminalDisplayRow) -> Display:
    return Display(
        terminal_id=row.terminal_id,
        store_id=row.store_id,
        customer_id=row.customer_id,
        cart_points=row.cart_points,
        cart_total=row.cart_total,
        version=row.version,
        updated_at=row.updated_at,
    )
