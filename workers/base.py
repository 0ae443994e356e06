"""What every background worker is given: the database, where to publish what it commits,
and the clock it reads the time from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from domain.ports import EventPublisher
from persistence.database import Database
from persistence.unit_of_work import SqlAlchemyUnitOfWork


@dataclass
class Worker:
    database: Database
    publisher: EventPublisher
    clock: Callable[[], datetime]

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.database, self.publisher)
