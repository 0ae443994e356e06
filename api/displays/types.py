"""Customer-facing displays: what the POS puts on a terminal's screen, and what it shows."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.mutations import UserError
from api.points.inputs import SaleLineInput, sale_lines_of
from api.points.transactions import PointsTransaction
from domain.displays import ClearDisplay, Screen, ShowOnDisplay, masked_name, terminal
from domain.ledger import PostedEntry


@strawberry.input
class ShowOnDisplayInput:
    terminal_id: strawberry.ID
    store_id: strawberry.ID
    customer_id: strawberry.ID
    lines: list[SaleLineInput] = strawberry.field(
        default_factory=list, description="The cart so far; may be empty."
    )

    def to_command(self, now: datetime) -> ShowOnDisplay:
        return ShowOnDisplay(
            terminal_id=terminal(str(self.terminal_id)),
            store_id=str(self.store_id),
            customer_id=str(self.customer_id),
            lines=sale_lines_of(self.lines, allow_empty=True),
            at=now,
        )


@strawberry.input
class ClearDisplayInput:
    terminal_id: strawberry.ID
    store_id: strawberry.ID

    def to_command(self, now: datetime) -> ClearDisplay:
        return ClearDisplay(terminal(str(self.terminal_id)), str(self.store_id), now)


@strawberry.type(
    description="What a terminal's customer-facing screen shows: no email or phone, and "
    "the name as first name and initial."
)
class TerminalDisplay:
    terminal_id: strawberry.ID
    store_id: strawberry.ID
    customer_id: strawberry.ID | None
    customer_name: str | None
    balance: int | None
    cart_points: int = strawberry.field(description="What the cart on the till will earn.")
    projected_balance: int | None
    last_change: PointsTransaction | None = strawberry.field(
        description="The earn or redeem at this terminal that caused this message, if one did."
    )
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, screen: Screen, change: PostedEntry | None = None) -> TerminalDisplay:
        display, customer = screen.display, screen.customer
        balance = None if customer is None else customer.account.balance
        return cls(
            terminal_id=strawberry.ID(display.terminal_id),
            store_id=strawberry.ID(display.store_id),
            customer_id=None if display.customer_id is None else strawberry.ID(display.customer_id),
            customer_name=None if customer is None else masked_name(customer.name),
            balance=balance,
            cart_points=display.cart_points,
            projected_balance=None if balance is None else balance + display.cart_points,
            last_change=None if change is None else PointsTransaction.of(change),
            version=display.version,
            updated_at=display.updated_at,
        )


@strawberry.type
class DisplayPayload:
    display: TerminalDisplay | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
