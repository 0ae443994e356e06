"""Points transactions: a posted journal entry as the POS sees it, in pages and feeds."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.audit import Recorder, recorder_for
from api.context import Info
from api.pagination import PageInfo, encode_cursor
from api.points.breakdown import PointsBreakdown
from domain.ledger import PostedEntry, TransactionKind
from persistence.queries.points import TransactionPage

# The domain's kinds are the GraphQL enum: one list of kinds, not two.
strawberry.enum(TransactionKind, name="TransactionKind")
EXPLAINED = (TransactionKind.EARN, TransactionKind.REVERSAL)


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
    created_at: datetime = strawberry.field(description="When the server recorded it.")
    occurred_at: datetime = strawberry.field(
        description="When it happened at the till (what analytics count by); the same as "
        "createdAt unless the till dated it."
    )
    reason: str | None = strawberry.field(
        description="Why, for adjustments and bulk awards.", default=None
    )
    reverses_transaction_id: strawberry.ID | None = strawberry.field(
        default=None, description="For a REVERSAL: the sale's transaction it reverses."
    )
    posted: strawberry.Private[PostedEntry]

    @strawberry.field(
        description="For a sale's EARN or its REVERSAL: why it earned what it did, line by "
        "line and rule by rule. Null for other transactions."
    )
    async def breakdown(self, info: Info) -> PointsBreakdown | None:
        if self.kind not in EXPLAINED:
            return None
        sale = await info.context.loaders.breakdowns.load(self.posted.id)
        return None if sale is None else PointsBreakdown.of(sale)

    @strawberry.field(
        description="Who made it, from their token. Shown to managers and admins only."
    )
    def recorded_by(self, info: Info) -> Recorder | None:
        return recorder_for(info, self.posted.entry.movement.actor)

    @classmethod
    def of(cls, posted: PostedEntry) -> PointsTransaction:
        entry, movement = posted.entry, posted.entry.movement
        reverses = entry.reverses_entry_id
        return cls(
            id=strawberry.ID(str(posted.id)),
            kind=entry.kind,
            points=entry.points,
            balance_after=entry.balance_after,
            customer_id=strawberry.ID(entry.customer_id),
            store_id=_id(movement.store_id),
            terminal_id=_id(movement.terminal_id),
            sale_id=movement.sale_id,
            idempotency_key=movement.idempotency_key,
            created_at=movement.recorded,
            occurred_at=movement.occurred_at,
            reason=movement.reason,
            reverses_transaction_id=None if reverses is None else strawberry.ID(str(reverses)),
            posted=posted,
        )


def _id(value: str | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(value)


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
            PointsTransactionEdge(
                cursor=encode_cursor(posted.id), node=PointsTransaction.of(posted)
            )
            for posted in page.transactions
        ]
        end_cursor = edges[-1].cursor if edges else None
        return cls(
            edges=edges, page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=end_cursor)
        )


@strawberry.type
class BalanceChange:
    customer_id: strawberry.ID
    balance: int
    balance_version: int
    delta: int = strawberry.field(
        description="Zero for the first message, which is the balance as it stands."
    )
    transaction: PointsTransaction | None = strawberry.field(
        description="Null for the first message."
    )
    occurred_at: datetime

    @classmethod
    def of(cls, posted: PostedEntry) -> BalanceChange:
        entry = posted.entry
        return cls(
            customer_id=strawberry.ID(entry.customer_id),
            balance=entry.balance_after,
            balance_version=entry.balance_version,
            delta=entry.points,
            transaction=PointsTransaction.of(posted),
            occurred_at=entry.movement.occurred_at,
        )
