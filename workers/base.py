"""What every background worker is given: the database, where to publish what it commits,
the clock it reads the time from, and a way to stop between batches."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from domain.ports import EventPublisher
from persistence.database import Database
from persistence.unit_of_work import SqlAlchemyUnitOfWork


@dataclass
class Worker:
    database: Database
    publisher: EventPublisher
    clock: Callable[[], datetime]
    stopping: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    async def run(self) -> None:
        """Work in batches until stopped (each worker says what a batch is)."""
        raise NotImplementedError

    def stop(self) -> None:
        """Finish the batch under way, then return from `run` (a cancelled batch could
        leave its transaction, and on SQLite the writer lock, open until collected)."""
        self.stopping.set()

    @property
    def running(self) -> bool:
        return not self.stopping.is_set()

    async def pause(self, seconds: float) -> None:
        """Wait between batches; a stop ends the wait at once."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.database, self.publisher)
