"""Sales of non-members: a till records a shopper who is not in the programme (no customer,
no points), so that members can be compared with non-members.

Like a movement of points, a guest sale is asked for under an idempotency key: a retry
records nothing more and answers with the sale the key recorded first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from domain.idempotency import request_fingerprint
from domain.ledger import Actor
from domain.sales import SaleLine, sale_total


@dataclass(frozen=True, kw_only=True)
class RecordGuestSale:
    operation: ClassVar[str] = "recordGuestSale"
    idempotency_key: str
    store_id: str
    terminal_id: str | None = None
    sale_id: str | None = None
    lines: tuple[SaleLine, ...]
    occurred_at: datetime
    recorded_at: datetime
    actor: Actor | None = None
    # What the till stated as occurred_at (None: the server's clock gave it); as for a
    # movement of points, part of the request only when stated.
    till_time: datetime | None = None

    def fingerprint(self) -> str:
        return request_fingerprint(self.operation, self)

    @property
    def total(self) -> Decimal:
        return sale_total(self.lines)

    def as_recorded(self, guest_sale_id: int) -> GuestSale:
        return GuestSale(
            id=guest_sale_id,
            store_id=self.store_id,
            terminal_id=self.terminal_id,
            sale_id=self.sale_id,
            total=self.total,
            occurred_at=self.occurred_at,
            recorded_at=self.recorded_at,
            recorded_by=self.actor,
        )


@dataclass(frozen=True)
class GuestSale:
    """A guest sale as recorded: its total, not its lines."""

    id: int
    store_id: str
    terminal_id: str | None
    sale_id: str | None
    total: Decimal
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: Actor | None
