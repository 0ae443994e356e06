"""Driving the use cases directly in tests, as the API would: units of work, a store, an
enrolled customer, and the commands of the points feature with their usual defaults."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from domain.customers import EnrollCustomer, Identifiers
from domain.points import EarnPoints, RedeemPoints, RefundSale
from domain.ports import EventPublisher
from domain.sales import SaleLine
from domain.stores import Store
from domain.use_cases import customers, stores
from persistence.database import Database
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from subscriptions.broker import InProcessBroker
from subscriptions.hub import Hub

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def uow(
    database: Database, publisher: EventPublisher | None = None, *, read_only: bool = False
) -> SqlAlchemyUnitOfWork:
    """A unit of work publishing to `publisher` (by default, a hub nobody listens to)."""
    return SqlAlchemyUnitOfWork(database, publisher or InProcessBroker(Hub()), read_only=read_only)


async def open_store(database: Database, store_id: str = "S1", name: str = "Main") -> Store:
    return await stores.create_store(uow(database), Store(store_id, name))


async def enrolled(database: Database, at: datetime = NOW, **identifiers: str) -> str:
    """The id of a new customer with these identifiers (by default a card number)."""
    given = Identifiers(**(identifiers or {"card_number": "C1"}))
    customer = await customers.enroll_customer(uow(database), EnrollCustomer(None, given, at))
    return customer.id


def sale_line(price: str = "12", quantity: int = 1, category: str = "grocery") -> SaleLine:
    return SaleLine("A", category, quantity, Decimal(price))


def earning(
    customer_id: str,
    key: str,
    lines: tuple[SaleLine, ...] | None = None,
    at: datetime = NOW,
    store_id: str = "S1",
    **extra: Any,
) -> EarnPoints:
    return EarnPoints(
        customer_id=customer_id,
        idempotency_key=key,
        store_id=store_id,
        lines=(sale_line(),) if lines is None else lines,
        occurred_at=at,
        **extra,
    )


def redeeming(
    customer_id: str,
    key: str,
    points: int | None,
    at: datetime = NOW,
    store_id: str = "S1",
    **extra: Any,
) -> RedeemPoints:
    extra.setdefault("reward_id", None)
    return RedeemPoints(
        customer_id=customer_id,
        idempotency_key=key,
        store_id=store_id,
        points=points,
        occurred_at=at,
        **extra,
    )


def refunding(
    transaction_id: int,
    key: str,
    at: datetime = NOW,
    *,
    store_id: str = "S1",
    quantities: tuple[tuple[int, int], ...] = (),
    reason: str | None = None,
) -> RefundSale:
    return RefundSale(
        transaction_id=transaction_id,
        idempotency_key=key,
        store_id=store_id,
        terminal_id=None,
        quantities=quantities,
        reason=reason,
        occurred_at=at,
    )
