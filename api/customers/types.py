"""The Customer type, how a till looks one up, and enrolment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import strawberry

from api.context import Info
from api.customers.phones import normalise_phone
from api.mutations import UserError
from api.pagination import page_request
from api.points.transactions import PointsTransactionConnection
from domain.customers import (
    Customer as DomainCustomer,
)
from domain.customers import (
    EnrollCustomer,
    Identifiers,
    normalise_card_number,
    normalise_email,
    normalise_external_id,
    normalise_name,
    require_one_identifier,
)
from domain.errors import FieldPath, InvalidInput
from domain.expiry import Expiring
from domain.ledger import Actor
from persistence.queries.customers import balance_at
from persistence.queries.points import transactions_page

Normaliser = Callable[[str, FieldPath], str]


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
        description="The balance at a moment, counting each movement at the time it happened "
        "(a sale dated back counts from when it happened)."
    )
    async def balance_at(self, info: Info, at: datetime) -> int:
        async with info.context.database.reading() as session:
            return await balance_at(session, str(self.id), at.astimezone(UTC))

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
        return await info.context.loaders.expiring.load((str(self.id), self.balance))

    @strawberry.field(description="Newest first.")
    async def transactions(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> PointsTransactionConnection:
        size, before_id = page_request(first, after)
        async with info.context.database.reading() as session:
            page = await transactions_page(session, str(self.id), size, before_id)
        return PointsTransactionConnection.of(page)

    @classmethod
    def of(cls, customer: DomainCustomer) -> Customer:
        ids, account = customer.identifiers, customer.account
        return cls(
            id=strawberry.ID(customer.id),
            external_id=ids.external_id,
            name=customer.name,
            stored_email=ids.email,
            stored_phone=ids.phone,
            card_number=ids.card_number,
            balance=account.balance,
            balance_version=account.balance_version,
            lifetime_earned=account.lifetime_earned,
            enrolled_at=customer.enrolled_at,
            points_owed=account.points_owed,
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


@strawberry.input
class CustomerLookup:
    id: strawberry.ID | None = None
    external_id: str | None = None
    email: str | None = None
    phone: str | None = None
    card_number: str | None = None

    def identifier(self, phone_region: str | None) -> tuple[str, str]:
        """The one identifier given, normalised as at enrolment: (column, value)."""
        given = {
            name: value
            for name, value in vars(self).items()
            if value is not None and str(value).strip()
        }
        if len(given) != 1:
            raise InvalidInput(
                "give exactly one of id, externalId, email, phone, cardNumber", ("lookup",)
            )
        ((name, value),) = given.items()
        return name, _normalised(name, str(value), phone_region)


def _normalised(name: str, value: str, phone_region: str | None) -> str:
    path = ("lookup", _camel(name))
    if name == "email":
        return normalise_email(value, path)
    if name == "phone":
        return normalise_phone(value, path, phone_region)
    if name == "card_number":
        return normalise_card_number(value, path)
    return value.strip()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@strawberry.input
class EnrollCustomerInput:
    external_id: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    card_number: str | None = None

    def to_command(
        self, now: datetime, phone_region: str | None, enrolled_by: Actor, store_id: str | None
    ) -> EnrollCustomer:
        """The enrolment, by whom and in which store (from the token, never the input)."""
        identifiers = Identifiers(
            external_id=_maybe(self.external_id, normalise_external_id, "externalId"),
            email=_maybe(self.email, normalise_email, "email"),
            phone=None
            if _blank(self.phone)
            else normalise_phone(str(self.phone), ("input", "phone"), phone_region),
            card_number=_maybe(self.card_number, normalise_card_number, "cardNumber"),
        )
        require_one_identifier(identifiers, ("input",))
        name = normalise_name(self.name, ("input", "name"))
        return EnrollCustomer(
            name=name,
            identifiers=identifiers,
            enrolled_at=now,
            enrolled_by_staff=enrolled_by.staff_id,
            enrolled_store_id=store_id,
        )


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _maybe(value: str | None, normalise: Normaliser, field: str) -> str | None:
    return None if _blank(value) else normalise(str(value), ("input", field))


@strawberry.type
class EnrollCustomerPayload:
    customer: Customer | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
