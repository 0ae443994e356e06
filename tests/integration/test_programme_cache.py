"""Each process serves stores and earning rules from memory; a change made by any process
shows in the very next transaction of every other (two Database objects here: two
processes' pools and caches on one database)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import event

from domain.errors import InvalidInput
from domain.programme import Terms
from domain.stores import Store
from domain.use_cases import points, stores
from persistence.database import Database
from tests.programme import add_rule, category_rate
from tests.use_cases import earning, enrolled, open_store, uow


@pytest.fixture
async def other_process(database: Database) -> AsyncIterator[Database]:
    other = Database(database.url)
    try:
        yield other
    finally:
        await other.dispose()


def programme_reads(database: Database) -> list[str]:
    """The statements that read the stores or the rules, from now on."""
    seen: list[str] = []

    def count(*arguments: object) -> None:
        statement = str(arguments[2])
        if statement.lstrip().upper().startswith("SELECT") and (
            "FROM stores" in statement or "FROM earning_rules" in statement
        ):
            seen.append(statement)

    for engine in {database.engine.sync_engine, database.write_engine.sync_engine}:
        event.listen(engine, "before_cursor_execute", count)
    return seen


async def earned(database: Database, customer_id: str, key: str) -> int:
    at = datetime.now(UTC)
    moved = await points.earn_points(uow(database), earning(customer_id, key, at=at), Terms())
    return moved.posted.entry.points


async def test_a_warm_cache_reads_neither_stores_nor_rules(database: Database) -> None:
    await open_store(database)
    customer_id = await enrolled(database)
    await earned(database, customer_id, "k1")
    reads = programme_reads(database)

    await earned(database, customer_id, "k2")

    assert reads == []


async def test_a_rule_saved_by_another_process_applies_to_the_next_earn(
    database: Database, other_process: Database
) -> None:
    await open_store(database)
    customer_id = await enrolled(database)
    assert await earned(database, customer_id, "k1") == 12  # one point per 1.00 of 12.00

    await add_rule(other_process, category_rate("grocery", "3"))

    assert await earned(database, customer_id, "k2") == 36


async def test_a_store_opened_by_another_process_is_known_at_once(
    database: Database, other_process: Database
) -> None:
    await open_store(database)
    customer_id = await enrolled(database)
    await earned(database, customer_id, "k1")
    command = earning(customer_id, "k2", store_id="S2", at=datetime.now(UTC))
    with pytest.raises(InvalidInput, match="unknown store"):
        await points.earn_points(uow(database), command, Terms())

    await stores.create_store(uow(other_process), Store("S2", "Second"))

    moved = await points.earn_points(uow(database), command, Terms())
    assert moved.posted.entry.movement.store_id == "S2"


async def test_a_rule_change_rolled_back_never_reaches_a_cache(
    database: Database, other_process: Database
) -> None:
    await open_store(database)
    customer_id = await enrolled(database)
    await earned(database, customer_id, "k1")
    rolled_back = uow(other_process)
    async with rolled_back:
        await rolled_back.rules.add_version(category_rate("grocery", "5"), datetime.now(UTC), None)
        # This process reads the uncommitted change, and caches it under its own token...
        assert len(await rolled_back.rules.as_of(datetime.now(UTC))) == 1
    # ...which no committed state has: the next earn anywhere reads the rules as they are.

    assert await earned(database, customer_id, "k2") == 12
    assert await earned(other_process, customer_id, "k3") == 12
