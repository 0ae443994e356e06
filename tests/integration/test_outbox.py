"""A committed change reaches subscribers even when its process could not publish it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from api.context import utc_now
from api.jobs import OutboxRelay
from domain import sale_services, services
from domain.commands import CreateStore, EarnPoints, EnrollCustomer
from domain.customers import Identifiers
from domain.events import Event
from domain.points import SaleLine
from domain.ports import EventPublisher
from domain.services import Terms
from persistence.database import Database
from persistence.models import OutboxRow
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from subscriptions.broker import InProcessBroker
from subscriptions.channels import customer_topic
from subscriptions.hub import Hub
from subscriptions.messages import BalanceMessage

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class DeadBroker:
    """The process died, or Redis was down, between the commit and the publish."""

    async def publish(self, events: Sequence[Event]) -> None:
        raise ConnectionError("gone")


async def committed_earn(database: Database, publisher: EventPublisher) -> str:
    hub_free = InProcessBroker(Hub())
    await services.create_store(SqlAlchemyUnitOfWork(database, hub_free), CreateStore("S1", "M"))
    customer = await services.enroll_customer(
        SqlAlchemyUnitOfWork(database, hub_free),
        EnrollCustomer(None, Identifiers(card_number="C1"), NOW),
    )
    earn = EarnPoints(
        customer.id, "k1", "S1", None, None, (SaleLine("A", "grocery", 1, Decimal("12")),), NOW
    )
    await sale_services.earn_points(SqlAlchemyUnitOfWork(database, publisher), earn, Terms())
    return customer.id


async def unpublished(database: Database) -> list[int]:
    async with database.reading() as session:
        query = select(OutboxRow.entry_id).where(OutboxRow.published_at.is_(None))
        return list((await session.execute(query)).scalars())


def relay(database: Database, hub: Hub, grace: timedelta) -> OutboxRelay:
    return OutboxRelay(database, InProcessBroker(hub), utc_now, grace=grace, poll_seconds=0.1)


async def test_a_published_change_is_marked_in_the_outbox(database: Database) -> None:
    await committed_earn(database, InProcessBroker(Hub()))

    assert await unpublished(database) == []


async def test_the_relay_publishes_a_change_its_process_never_did(database: Database) -> None:
    customer_id = await committed_earn(database, DeadBroker())
    hub = Hub()

    assert len(await unpublished(database)) == 1
    async with hub.subscription(customer_topic(customer_id)) as subscription:
        relayed = await relay(database, hub, timedelta(0)).relay_once()
        delivered = await asyncio.wait_for(subscription.next(), timeout=2)

    assert relayed == 1
    assert isinstance(delivered, BalanceMessage)
    assert (delivered.balance, delivered.balance_version, delivered.delta) == (12, 1, 12)
    assert await unpublished(database) == []


async def test_the_relay_leaves_fresh_changes_to_their_own_process(database: Database) -> None:
    await committed_earn(database, DeadBroker())

    relayed = await relay(database, Hub(), timedelta(minutes=5)).relay_once()

    assert relayed == 0
    assert len(await unpublished(database)) == 1
