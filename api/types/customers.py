"""The Customer type and its paginated history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import strawberry

from api.context import Info
from api.errors import ClientError
from api.types.transactions import PointsTransactionConnection, decode_cursor
from domain.errors import DomainError, InvalidInput
from domain.expiry import Expiring
from persistence import queries
from persistence.expiry import expiring_next
from persistence.queries import CustomerView

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


@strawberry.type
class Customer:
    id: strawberry.ID
    external_id: str | None
    name: str | None
    card_number: str | None
    stored_email: strawberry.Private[str | None]
    stored_phone: strawberry.Private[str | None]
    balance: int = strawberry.field(description="Points available to redeem now.")
    balance_version: int = strawberry.field(
        description="Goes up by one with every change of balance, "
        "so a client can tell it missed one."
    )
    lifetime_earned: int
    enrolled_at: datetime
    points_owed: int = strawberry.field(
        description="Points a refund took back after they were spent; the customer's next "
        "earnings pay them off before the balance grows."
    )

    @strawberry.field(
        description="Personal data: shown to cashier, manager and admin tokens; "
        "masked (a***@example.com) for customer-facing displays."
    )
    def email(self, info: Info) -> str | None:
        return _shown(info, self.stored_email, mask_email)

    @strawberry.field(
        description="Personal data: shown to cashier, manager and admin tokens; "
        "masked (+44*******018) for customer-facing displays."
    )
    def phone(self, info: Info) -> str | None:
        return _shown(info, self.stored_phone, mask_phone)

    @strawberry.field(
        description="The points that expire next under the programme's expiry policy "
        "(null when none will)."
    )
    async def points_expiring_next(self, info: Info) -> int | None:
        expiring = await self._expiring(info)
        return None if expiring is None else expiring.points

    @strawberry.field(description="When pointsExpiringNext expire.")
    async def points_expire_at(self, info: Info) -> datetime | None:
        expiring = await self._expiring(info)
        return None if expiring is None else expiring.at

    async def _expiring(self, info: Info) -> Expiring | None:
        policy = info.context.terms().expiry
        async with info.context.database.reading() as session:
            return await expiring_next(session, str(self.id), self.balance, policy)

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
            stored_email=view.email,
            stored_phone=view.phone,
            card_number=view.card_number,
            balance=view.balance,
            balance_version=view.balance_version,
            lifetime_earned=view.lifetime_earned,
            enrolled_at=view.enrolled_at,
            points_owed=view.points_owed,
        )


def _shown(info: Info, value: str | None, mask: Callable[[str], str]) -> str | None:
    principal = info.context.principal
    if value is None or (principal is not None and principal.sees_personal_data):
        return value
    return mask(value)


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    keep_start = 3 if phone.startswith("+") else 0
    hidden = max(len(phone) - keep_start - 3, 0)
    return phone[:keep_start] + "*" * hidden + phone[keep_start + hidden :]


def _page_request(first: int | None, after: str | None) -> tuple[int, int | None]:
    size = DEFAULT_PAGE_SIZE if first is None else first
    if not 0 <= size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"first must be between 0 and {MAX_PAGE_SIZE}", ("first",))
    return size, None if after is None else decode_cursor(after)
