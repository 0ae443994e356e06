"""Points transactions: journal entries as the POS sees them."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

import strawberry

from api.context import Info
from api.types.breakdown import PointsBreakdown
from api.types.common import PageInfo
from domain.errors import InvalidInput
from domain.ledger import Actor, TransactionKind
from persistence import programme_queries
from persistence.queries import TransactionPage, TransactionView
from subscriptions.messages import BalanceMessage

CURSOR_PREFIX = "txn:"


@strawberry.type(description="The staff member, role and terminal a token named.")
class Recorder:
    staff_id: str
    role: str
    terminal_id: str | None

    @classmethod
    def of(cls, actor: Actor) -> Recorder:
        return cls(staff_id=actor.staff_id, role=actor.role, terminal_id=actor.terminal_id)


@strawberry.type
class PointsTransaction:
    id: strawberry.ID
    kind: TransactionKind
    points: int = strawberry.field(
        description="Signed change of balance: positive when points are added, negative when taken."
    )
    balance_after: int
    customer_id: strawberry.ID
    store_id: strawberry.ID | None
    terminal_id: strawberry.ID | None
    sale_id: str | None
    idempotency_key: str | None
    created_at: datetime
    reason: str | None = strawberry.field(
        description="Why, for adjustments and bulk awards.", default=None
    )
    reverses_transaction_id: strawberry.ID | None = strawberry.field(
        default=None, description="For a REVERSAL: the sale's transaction it reverses."
    )
    recorder: strawberry.Private[Actor | None] = None

    @strawberry.field(
        description="For a sale's EARN or its REVERSAL: why it earned what it did, line by "
        "line and rule by rule. Null for other transactions."
    )
    async def breakdown(self, info: Info) -> PointsBreakdown | None:
        if self.kind not in (TransactionKind.EARN, TransactionKind.REVERSAL):
            return None
        async with info.context.database.reading() as session:
            sale = await programme_queries.sale_breakdown(session, int(self.id))
        return None if sale is None else PointsBreakdown.of(sale)

    @strawberry.field(
        description="Who made it, from their token. Shown to managers and admins only."
    )
    def recorded_by(self, info: Info) -> Recorder | None:
        principal = info.context.principal
        if self.recorder is None or principal is None or not principal.sees_audit:
            return None
        return Recorder.of(self.recorder)

    @classmethod
    def of(cls, view: TransactionView) -> PointsTransaction:
        return cls(
            id=strawberry.ID(str(view.id)),
            kind=TransactionKind(view.kind),
            points=view.points,
            balance_after=view.balance_after,
            customer_id=strawberry.ID(view.customer_id),
            store_id=None if view.store_id is None else strawberry.ID(view.store_id),
            terminal_id=None if view.terminal_id is None else strawberry.ID(view.terminal_id),
            sale_id=view.sale_id,
            idempotency_key=view.idempotency_key,
            created_at=view.created_at,
            reason=view.reason,
            reverses_transaction_id=None
            if view.reverses_entry_id is None
            else strawberry.ID(str(view.reverses_entry_id)),
            recorder=view.recorded_by,
        )


@strawberry.type
class PointsTransactionEdge:
    cursor: str
    node: PointsTransaction


@strawberry.type
class PointsTransactionConnection:
    edges: list[PointsTransactionEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: TransactionPage) -> PointsTransactionConnection:
        edges = [
            PointsTransactionEdge(cursor=encode_cursor(view.id), node=PointsTransaction.of(view))
            for view in page.transactions
        ]
        end_cursor = edges[-1].cursor if edges else None
        return cls(
            edges=edges, page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=end_cursor)
        )


def encode_cursor(entry_id: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{entry_id}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    refused = InvalidInput("after is not a cursor from this API", ("after",))
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise refused from None
    digits = text.removeprefix(CURSOR_PREFIX)
    if digits == text or not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
        raise refused
    return int(digits)


def view_of(message: BalanceMessage) -> TransactionView:
    """A transaction as a published message carries it (without its audit fields)."""
    return TransactionView(
        id=message.entry_id,
        kind=message.kind,
        points=message.delta,
        balance_after=message.balance,
        balance_version=message.balance_version,
        customer_id=message.customer_id,
        store_id=message.store_id,
        terminal_id=message.terminal_id,
        sale_id=message.sale_id,
        idempotency_key=message.idempotency_key,
        created_at=message.occurred_at,
    )
