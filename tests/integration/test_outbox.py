"""A committed change reaches subscribers even when its process could not publish it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select

from api.services import utc_now
from domain.events import BalanceChanged, Event
from domain.ports import EventPublisher
from domain.programme import Terms
from domain.use_cases import points
from persistence.database import Database
from persistence.models import OutboxRow
from subscriptions.broker import InProcessBroker
from subscriptions.channels import customer_topic
from subscriptions.hub import Hub
from tests.use_cases import earning, enrolled, open_store, uow
from workers.outbox import OutboxMarker, OutboxRelay


class DeadBroker:
    """The process died, or Redis was down, between the commit and the publish."""

    async def publish(self, events: Sequence[Event]) -> None:
        raise ConnectionError("gone")


async def committed_earn(database: Database, publisher: EventPublisher) -> str:
    await open_store(database)
    customer_id = await enrolled(database)
    await points.earn_points(uow(database, publisher), earning(customer_id, "k1"), Terms())
    return customer_id


async def unpublished(database: Database) -> list[int]:
    async with database.reading() as session:
        query = select(OutboxRow.entry_id).where(OutboxRow.published_at.is_(None))
        return list((await session.execute(query)).scalars())


def relay(database: Database, hub: Hub, grace: timedelta) -> OutboxRelay:
    return OutboxRelay(database, InProcessBroker(hub), utc_now, grace=grace, poll_seconds=0.1)


def marker(database: Database) -> OutboxMarker:
    return OutboxMarker(database, InProcessBroker(Hub()), utc_now, interval_seconds=0.05)


async def test_a_published_change_is_marked_with_the_next_batch(database: Database) -> None:
    customer_id = await committed_earn(database, InProcessBroker(Hub()))
    await points.earn_points(uow(database), earning(customer_id, "k2"), Terms())

    assert len(await unpublished(database)) == 2
    assert await marker(database).mark_once() == 2
    assert await unpublished(database) == []
    assert await marker(database).mark_once() == 0


async def test_the_marker_marks_what_is_left_when_it_stops(database: Database) -> None:
    await committed_earn(database, InProcessBroker(Hub()))
    stopping = marker(database)
    stopping.interval_seconds = 3600
    running = asyncio.create_task(stopping.run())
    await asyncio.sleep(0)

    stopping.stop()
    await asyncio.wait_for(running, timeout=5)

    assert await unpublished(database) == []


async def test_a_change_not_published_is_not_marked(database: Database) -> None:
    await committed_earn(database, DeadBroker())

    assert await marker(database).mark_once() == 0
    assert len(await unpublished(database)) == 1


async def test_the_relay_publishes_a_change_its_process_never_did(database: Database) -> None:
    customer_id = await committed_earn(database, DeadBroker())
    hub = Hub()

    assert len(await unpublished(database)) == 1
    async with hub.subscription(customer_topic(customer_id)) as subscription:
        relayed = await relay(database, hub, timedelta(0)).relay_once()
        delivered = await asyncio.wait_for(subscription.next(), timeout=2)

    assert relayed == 1
    assert isinstance(delivered, BalanceChanged)
    entry = delivered.posted.entry
    assert (entry.balance_after, entry.balance_version, entry.points) == (12, 1, 12)
    assert await unpublished(database) == []


async def test_the_relay_leaves_fresh_changes_to_their_own_process(database: Database) -> None:
    await committed_earn(database, DeadBroker())

    relayed = await relay(database, Hub(), timedelta(minutes=5)).relay_once()

    assert relayed == 0
    assert len(await unpublished(database)) == 1


async def test_a_process_without_a_marker_marks_what_it_published_when_it_closes(
    database: Database,
) -> None:
    command_line = Database(database.url)  # as a command or a script would have
    await committed_earn(command_line, InProcessBroker(Hub()))
    assert len(await unpublished(database)) == 1

    await command_line.dispose()

    assert await unpublished(database) == []


async def test_more_changes_than_a_statement_takes_are_all_marked(database: Database) -> None:
    await committed_earn(database, DeadBroker())
    (outbox_id,) = await unpublished_ids(database)
    # Ids of rows that do not exist are marked harmlessly: the one row is among 40,001.
    database.published_outbox_ids.extend([*range(10**9, 10**9 + 40_000), outbox_id])

    assert await marker(database).mark_once() == 40_001
    assert await unpublished(database) == []


async def unpublished_ids(database: Database) -> list[int]:
    async with database.reading() as session:
        query = select(OutboxRow.id).where(OutboxRow.published_at.is_(None))
        return list((await session.execute(query)).scalars())
