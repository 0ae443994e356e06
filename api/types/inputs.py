"""Inputs, and their conversion into validated domain commands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import strawberry

from api.identifiers import normalise_phone
from api.types.scalars import DecimalText
from domain import commands
from domain.customers import (
    Identifiers,
    normalise_card_number,
    normalise_email,
    normalise_external_id,
    normalise_name,
    require_one_identifier,
)
from domain.errors import FieldPath, InvalidInput
from domain.ledger import Actor
from domain.points import SaleLine, sale_line, sale_lines
from domain.stores import new_store

Normaliser = Callable[[str, FieldPath], str]


@strawberry.input
class CreateStoreInput:
    id: strawberry.ID
    name: str

    def to_command(self) -> commands.CreateStore:
        store = new_store(str(self.id), self.name)
        return commands.CreateStore(id=store.id, name=store.name)


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

    def to_command(self, now: datetime, phone_region: str | None) -> commands.EnrollCustomer:
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
        return commands.EnrollCustomer(name=name, identifiers=identifiers, enrolled_at=now)


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _maybe(value: str | None, normalise: Normaliser, field: str) -> str | None:
    return None if _blank(value) else normalise(str(value), ("input", field))


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
class EarnPointsInput:
    customer_id: strawberry.ID
    idempotency_key: str = strawberry.field(
        description="A retry with the same key and the same input has the effect once "
        "and returns the same result."
    )
    store_id: strawberry.ID
    terminal_id: strawberry.ID | None = None
    sale_id: str | None = None
    lines: list[SaleLineInput]

    def to_command(self, now: datetime, actor: Actor) -> commands.EarnPoints:
        return commands.EarnPoints(
            customer_id=str(self.customer_id),
            idempotency_key=commands.idempotency_key(self.idempotency_key),
            store_id=str(self.store_id),
            terminal_id=commands.optional_reference(self.terminal_id, "terminalId"),
            sale_id=commands.optional_reference(self.sale_id, "saleId"),
            lines=sale_lines_of(self.lines),
            occurred_at=now,
            actor=actor,
        )


@strawberry.input
class RedeemPointsInput:
    customer_id: strawberry.ID
    idempotency_key: str
    store_id: strawberry.ID
    terminal_id: strawberry.ID | None = None
    sale_id: str | None = None
    reward_id: strawberry.ID | None = strawberry.field(
        default=None, description="Exactly one of rewardId and points."
    )
    points: int | None = None

    def to_command(self, now: datetime, actor: Actor) -> commands.RedeemPoints:
        return commands.RedeemPoints(
            customer_id=str(self.customer_id),
            idempotency_key=commands.idempotency_key(self.idempotency_key),
            store_id=str(self.store_id),
            terminal_id=commands.optional_reference(self.terminal_id, "terminalId"),
            sale_id=commands.optional_reference(self.sale_id, "saleId"),
            points=self.points,
            reward_id=None if self.reward_id is None else str(self.reward_id),
            occurred_at=now,
            actor=actor,
        )


@strawberry.input(
    description="A manual correction by a manager; the reason is kept in the journal."
)
class AdjustPointsInput:
    customer_id: strawberry.ID
    idempotency_key: str
    store_id: strawberry.ID
    points: int = strawberry.field(description="Positive adds points, negative removes them.")
    reason: str

    def to_command(self, now: datetime, actor: Actor) -> commands.AdjustPoints:
        return commands.AdjustPoints(
            customer_id=str(self.customer_id),
            idempotency_key=commands.idempotency_key(self.idempotency_key),
            store_id=str(self.store_id),
            points=self.points,
            reason=self.reason.strip(),
            occurred_at=now,
            actor=actor,
        )


@strawberry.input
class PreviewEarnInput:
    customer_id: strawberry.ID | None = None
    store_id: strawberry.ID
    lines: list[SaleLineInput]

    def to_query(self, now: datetime) -> commands.PreviewEarn:
        return commands.PreviewEarn(
            customer_id=None if self.customer_id is None else str(self.customer_id),
            store_id=str(self.store_id),
            lines=sale_lines_of(self.lines),
            at=now,
        )
