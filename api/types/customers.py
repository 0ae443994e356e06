"""The Customer type and its paginated history."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.context import Info
from api.errors import ClientError
from api.types.transactions import PointsTransactionConnection, decode_cursor
from domain.errors import DomainError, InvalidInput
from persistence import queries
from persistence.queries import CustomerView

MAX_PAGE_SIZE = 100


@strawberry.type
class Customer:
    id: strawberry.ID
    external_id: str | None
    name: str | None
    email: str | None
    phone: str | None
    card_number: str | None
    balance: int = strawberry.field(description="Points available to redeem now.")
    balance_version: int = strawberry.field(
        description="Goes up by one with every change of balance, "
        "so a client can tell it missed one."
    )
    lifetime_earned: int
    enrolled_at: datetime

    @strawberry.field(description="Newest first.")
    async def transactions(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> PointsTransactionConnection:
        try:
            size, before_id = _page_request(first, after)
        except DomainError as error:
            raise ClientError.of(error) from None
        async with info.context.database.reading() as session:
            page = await queries.transactions_page(session, str(self.id), size, before_id)
        return PointsTransactionConnection.of(page)

    @classmethod
    def of(cls, view: CustomerView) -> Customer:
        return cls(
            id=strawberry.ID(view.id),
            external_id=view.external_id,
            name=view.name,
            email=view.email,
            phone=view.phone,
            card_number=view.card_number,
            balance=view.balance,
            balance_version=view.balance_version,
            lifetime_earned=view.lifetime_earned,
            enrolled_at=view.enrolled_at,
        )


def _page_request(first: int | None, after: str | None) -> tuple[int, int | None]:
    size = 20 if first is None else first
    if not 0 <= size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"first must be between 0 and {MAX_PAGE_SIZE}", ("first",))
    return size, None if after is None else decode_cursor(after)
