"""A change that rolls back is never published; one that commits is, once."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from domain.events import BalanceChanged, Event
from domain.points import EarnPoints, RecordedSale
from domain.programme import Terms
from domain.use_cases import points
from persistence.database import Database
from persistence.points import SqlAlchemySaleRepository
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.use_cases import earning, enrolled, open_store, sale_line


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
    return earning(customer_id, key, (sale_line("30"),))


async def test_a_rolled_back_earn_publishes_nothing_and_a_committed_one_publishes_once(
    database: Database,
) -> None:
    publisher = RecordingPublisher()
    await open_store(database)
    customer_id = await enrolled(database)

    with pytest.raises(RuntimeError, match="disk is full"):
        await points.earn_points(
            FailingLateUnitOfWork(database, publisher), earn(customer_id, "k1"), Terms()
        )
    rolled_back = list(publisher.published)
    await points.earn_points(
        SqlAlchemyUnitOfWork(database, publisher), earn(customer_id, "k2"), Terms()
    )

    assert rolled_back == []
    assert len(publisher.published) == 1
    change = publisher.published[0]
    assert isinstance(change, BalanceChanged)
    assert (change.posted.entry.balance_after, change.posted.entry.balance_version) == (30, 1)
