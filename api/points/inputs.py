"""What a till or a manager sends to move points, turned into validated domain commands."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

import strawberry

from api.received import Received
from api.scalars import DecimalText
from domain.errors import FieldPath, InvalidInput
from domain.idempotency import idempotency_key
from domain.labels import optional_reference
from domain.ledger import Actor
from domain.points import (
    AdjustPoints,
    Checkout,
    EarnPoints,
    PreviewEarn,
    RedeemPoints,
    RefundSale,
    TillCommand,
)
from domain.sales import SaleLine, sale_line, sale_lines

CommandT = TypeVar("CommandT", bound=TillCommand)
# A checkout rung up for longer than this is not one sale.
MAX_CHECKOUT_DURATION = timedelta(hours=12)
OCCURRED_AT = "When it happened at the till (e.g. a till that was offline); omitted: now."


@strawberry.input
class SaleLineInput:
    sku: str
    category: str
    quantity: int
    unit_price: DecimalText


def sale_lines_of(lines: list[SaleLineInput], *, allow_empty: bool = False) -> tuple[SaleLine, ...]:
    """Validated lines; a sale needs at least one, a cart on a display may have none."""
    checked = tuple(
        sale_line(
            line.sku, line.category, line.quantity, line.unit_price, ("input", "lines", str(i))
        )
        for i, line in enumerate(lines)
    )
    if allow_empty and not checked:
        return checked
    return sale_lines(checked, ("input", "lines"))


@strawberry.input
class TillInput:
    """What every request of a customer at a till names (each input adds its own)."""

    customer_id: strawberry.ID
    idempotency_key: str = strawberry.field(
        description="A retry with the same key and the same input has the effect once "
        "and returns the same result."
    )
    store_id: strawberry.ID
    terminal_id: strawberry.ID | None = None
    sale_id: str | None = None
    occurred_at: datetime | None = strawberry.field(default=None, description=OCCURRED_AT)

    def till_command(
        self, command: type[CommandT], received: Received, actor: Actor, **asked: Any
    ) -> CommandT:
        """The command of this request at the till, with what only it asks for."""
        return received.dated(
            command,
            self.occurred_at,
            customer_id=str(self.customer_id),
            idempotency_key=idempotency_key(self.idempotency_key),
            store_id=str(self.store_id),
            terminal_id=optional_reference(self.terminal_id, "terminalId"),
            sale_id=optional_reference(self.sale_id, "saleId"),
            actor=actor,
            **asked,
        )


@strawberry.input
class EarnPointsInput(TillInput):
    lines: list[SaleLineInput]

    def to_command(self, received: Received, actor: Actor) -> EarnPoints:
        return self.till_command(EarnPoints, received, actor, lines=sale_lines_of(self.lines))


@strawberry.input
class RedeemPointsInput(TillInput):
    reward_id: strawberry.ID | None = strawberry.field(
        default=None, description="Exactly one of rewardId and points."
    )
    points: int | None = None

    def to_command(self, received: Received, actor: Actor) -> RedeemPoints:
        reward_id = None if self.reward_id is None else str(self.reward_id)
        return self.till_command(
            RedeemPoints, received, actor, points=self.points, reward_id=reward_id
        )


@strawberry.input(
    description="A completed sale: what it spends (a reward, or points as money off) and "
    "what it earns, once."
)
class CheckoutInput(TillInput):
    lines: list[SaleLineInput]
    reward_id: strawberry.ID | None = strawberry.field(
        default=None, description="A reward to spend on the sale."
    )
    points: int | None = strawberry.field(
        default=None, description="Points to spend as money off (not with rewardId)."
    )
    started_at: datetime | None = strawberry.field(
        default=None,
        description="When the till began ringing the sale up, for checkout processing time; "
        "omitted: the server's own processing time is recorded.",
    )

    def to_command(self, received: Received, actor: Actor) -> Checkout:
        return self.till_command(
            Checkout,
            received,
            actor,
            lines=sale_lines_of(self.lines),
            reward_id=None if self.reward_id is None else str(self.reward_id),
            points=self.points,
            started_at=self._started_at(received),
        )

    def _started_at(self, received: Received) -> datetime | None:
        if self.started_at is None:
            return None
        window = replace(received, window=received.window + MAX_CHECKOUT_DURATION)
        return window.occurred_at_of(self.started_at, "startedAt")


@strawberry.input(
    description="A manual correction by a manager; the reason is kept in the journal."
)
class AdjustPointsInput:
    customer_id: strawberry.ID
    idempotency_key: str
    store_id: strawberry.ID
    points: int = strawberry.field(description="Positive adds points, negative removes them.")
    reason: str

    def to_command(self, received: Received, actor: Actor) -> AdjustPoints:
        return AdjustPoints(
            customer_id=str(self.customer_id),
            idempotency_key=idempotency_key(self.idempotency_key),
            store_id=str(self.store_id),
            points=self.points,
            reason=self.reason.strip(),
            occurred_at=received.at,
            actor=actor,
        )


@strawberry.input(description="Units of one line of the sale, counted from 1.")
class RefundLineInput:
    line_number: int
    quantity: int


@strawberry.input(
    description="Return a sale in full (no lines) or some units of its lines. Managers, and "
    "cashiers whose token has the refund right."
)
class RefundSaleInput:
    idempotency_key: str
    store_id: strawberry.ID = strawberry.field(description="Where the goods come back.")
    terminal_id: strawberry.ID | None = None
    transaction_id: strawberry.ID = strawberry.field(
        description="The EARN transaction of the sale (checkout's `earned`)."
    )
    lines: list[RefundLineInput] | None = None
    reason: str | None = None

    def to_command(self, received: Received, actor: Actor) -> RefundSale:
        return RefundSale(
            transaction_id=entry_id(str(self.transaction_id), ("input", "transactionId")),
            idempotency_key=idempotency_key(self.idempotency_key),
            store_id=str(self.store_id),
            terminal_id=optional_reference(self.terminal_id, "terminalId"),
            quantities=_quantities(self.lines or []),
            reason=optional_reference(self.reason, "reason"),
            occurred_at=received.at,
            actor=actor,
        )


def entry_id(raw: str, field: FieldPath) -> int:
    """A transaction id as this API hands them out."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise InvalidInput("transactionId is not a transaction of this API", field)
    return int(text)


def _quantities(lines: list[RefundLineInput]) -> tuple[tuple[int, int], ...]:
    numbers = [line.line_number for line in lines]
    if len(set(numbers)) != len(numbers):
        raise InvalidInput("name each line once", ("input", "lines"))
    return tuple(sorted((line.line_number, line.quantity) for line in lines))


@strawberry.input
class PreviewEarnInput:
    customer_id: strawberry.ID | None = None
    store_id: strawberry.ID
    lines: list[SaleLineInput]

    def to_query(self, now: datetime) -> PreviewEarn:
        return PreviewEarn(
            customer_id=None if self.customer_id is None else str(self.customer_id),
            store_id=str(self.store_id),
            lines=sale_lines_of(self.lines),
            at=now,
        )
