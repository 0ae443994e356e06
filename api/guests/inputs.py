"""What a till sends to record a non-member's sale, turned into a validated command."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.points.inputs import OCCURRED_AT, SaleLineInput, sale_lines_of
from api.received import Received
from domain.guests import RecordGuestSale
from domain.idempotency import idempotency_key
from domain.labels import optional_reference
from domain.ledger import Actor


@strawberry.input(description="The sale of a shopper who is not a member: no customer, no points.")
class RecordGuestSaleInput:
    idempotency_key: str = strawberry.field(
        description="A retry with the same key and the same input records the sale once "
        "and returns the same result."
    )
    store_id: strawberry.ID
    terminal_id: strawberry.ID | None = None
    sale_id: str | None = None
    lines: list[SaleLineInput]
    occurred_at: datetime | None = strawberry.field(default=None, description=OCCURRED_AT)

    def to_command(self, received: Received, actor: Actor) -> RecordGuestSale:
        occurred_at = received.occurred_at_of(self.occurred_at)
        return RecordGuestSale(
            idempotency_key=idempotency_key(self.idempotency_key),
            store_id=str(self.store_id),
            terminal_id=optional_reference(self.terminal_id, "terminalId"),
            sale_id=optional_reference(self.sale_id, "saleId"),
            lines=sale_lines_of(self.lines),
            occurred_at=occurred_at,
            till_time=None if self.occurred_at is None else occurred_at,
            recorded_at=received.at,
            actor=actor,
        )
