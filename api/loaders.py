"""DataLoaders over batched reads: every key a request asks for in one tick, one read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from persistence.database import Database

KeyT = TypeVar("KeyT", bound=Hashable)
ValueT = TypeVar("ValueT")


def batched(
    database: Database,
    read: Callable[[AsyncSession, Sequence[KeyT]], Awaitable[Mapping[KeyT, ValueT]]],
    missing: ValueT,
) -> DataLoader[KeyT, ValueT]:
    """A loader answering each key from one `read` of all of them (`missing` where the read
    found nothing). It keeps no cache: a later mutation in the request must see its change."""

    async def load(keys: Sequence[KeyT]) -> list[ValueT]:
        async with database.reading() as session:
            found = await read(session, keys)
        return [found.get(key, missing) for key in keys]

    return DataLoader(load_fn=load, cache=False)
