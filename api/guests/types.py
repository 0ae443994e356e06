"""A guest sale as a till sees it once recorded, and the payload that carries it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.mutations import UserError
from api.scalars import DecimalText, money
from domain.guests import GuestSale as DomainGuestSale


@strawberry.type(description="A sale of a non-member, as recorded: its total, not its lines.")
class GuestSale:
    id: strawberry.ID
    store_id: strawberry.ID
    terminal_id: strawberry.ID | None
    sale_id: str | None
    total: DecimalText
    occurred_at: datetime = strawberry.field(description="When it happened at the till.")
    recorded_at: datetime = strawberry.field(description="When the server recorded it.")

    @classmethod
    def of(cls, sale: DomainGuestSale) -> GuestSale:
        total = money(sale.total)
        assert total is not None, "a recorded sale has a total"
        return cls(
            id=strawberry.ID(str(sale.id)),
            store_id=strawberry.ID(sale.store_id),
            terminal_id=None if sale.terminal_id is None else strawberry.ID(sale.terminal_id),
            sale_id=sale.sale_id,
            total=total,
            occurred_at=sale.occurred_at,
            recorded_at=sale.recorded_at,
        )


@strawberry.type
class RecordGuestSalePayload:
    guest_sale: GuestSale | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
