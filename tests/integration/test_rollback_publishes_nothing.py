"""A change that rolls back is never published; one that commits is, once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from domain import sale_services, services
from domain.commands import CreateStore, EarnPoints, EnrollCustomer
from domain.customers import Identifiers
from domain.events import BalanceChanged, Event
from domain.points import SaleLine
from domain.sales import RecordedSale
from domain.services import Terms
from persistence.database import Database
from persistence.sales import SqlAlchemySaleRepository
from persistence.unit_of_work import SqlAlchemyUnitOfWork

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class RecordingPublisher:
    def __init__(self) -> None:
        self.published: list[Event] = []

    async def publish(self, events: Sequence[Event]) -> None:
        self.published.extend(events)


class SaleRecordFails(SqlAlchemySaleRepository):
    async def record(self, sale: RecordedSale) -> None:
        raise RuntimeError("the disk is full")


class FailingLateUnitOfWork(SqlAlchemyUnitOfWork):
    """Fails after the balance moved and the change was recorded, before the commit."""

    def _attach_repositories(self, session: AsyncSession) -> None:
        super()._attach_repositories(session)
        self.sales = SaleRecordFails(session)


def earn(customer_id: str, key: str) -> EarnPoints:
    line = SaleLine("A", "grocery", 1, Decimal("30"))
    return EarnPoints(customer_id, key, "S1", None, None, (line,), NOW)


async def test_a_rolled_back_earn_publishes_nothing_and_a_committed_one_publishes_once(
    database: Database,
) -> None:
    publisher = RecordingPublisher()
    await services.create_store(SqlAlchemyUnitOfWork(database, publisher), CreateStore("S1", "M"))
    customer = await services.enroll_customer(
        SqlAlchemyUnitOfWork(database, publisher),
        EnrollCustomer(None, Identifiers(card_number="C1"), NOW),
    )

    with pytest.raises(RuntimeError, match="disk is full"):
        await sale_services.earn_points(
            FailingLateUnitOfWork(database, publisher), earn(customer.id, "k1"), Terms()
        )
    rolled_back = list(publisher.published)
    await sale_services.earn_points(
        SqlAlchemyUnitOfWork(database, publisher), earn(customer.id, "k2"), Terms()
    )

    assert rolled_back == []
    assert len(publisher.published) == 1
    change = publisher.published[0]
    assert isinstance(change, BalanceChanged)
    assert (change.balance, change.balance_version) == (30, 1)
