"""One business transaction: repositories on one session, committed once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession

from domain.events import BalanceChanged, Event
from domain.ports import EventPublisher
from persistence import outbox
from persistence.analytics import inbox
from persistence.campaigns import SqlAlchemyBulkAwardRepository
from persistence.customers import SqlAlchemyCustomerRepository
from persistence.database import Database
from persistence.displays import SqlAlchemyDisplayRepository
from persistence.expiry import SqlAlchemyExpiryRepository
from persistence.guests import SqlAlchemyGuestSaleRepository
from persistence.idempotency import SqlAlchemyIdempotencyRepository
from persistence.journal import SqlAlchemyJournalRepository
from persistence.periods import SqlAlchemyPeriodRepository
from persistence.points import SqlAlchemyRedemptionRepository, SqlAlchemySaleRepository
from persistence.programme import SqlAlchemyRewardRepository, SqlAlchemyRuleRepository
from persistence.programme_cache import ProgrammeInTransaction, ReadUnderLock
from persistence.stores import SqlAlchemyStoreRepository
from persistence.valuation import SqlAlchemyValuationRepository

logger = logging.getLogger(__name__)


class SqlAlchemyUnitOfWork:
    """Events recorded during the work are published only after it commits."""

    def __init__(
        self, database: Database, publisher: EventPublisher, *, read_only: bool = False
    ) -> None:
        self._database = database
        self._publisher = publisher
        self._read_only = read_only
        self._events: list[Event] = []
        self._outbox_ids: list[int] = []
        self._committed = False

    async def __aenter__(self) -> Self:
        if self._read_only:
            self._session: AsyncSession = self._database.read_sessions()
        else:
            await self._lock()
            self._session = self._database.write_sessions()
        self._attach_repositories(self._session)
        self._events = []
        self._committed = False
        return self

    def _attach_repositories(self, session: AsyncSession) -> None:
        seen = ReadUnderLock()
        programme = ProgrammeInTransaction(session, self._database.programme_cache, seen)
        self.stores = SqlAlchemyStoreRepository(session, programme)
        self.customers = SqlAlchemyCustomerRepository(session, seen)
        self.rules = SqlAlchemyRuleRepository(session, programme)
        self.rewards = SqlAlchemyRewardRepository(session)
        self.redemptions = SqlAlchemyRedemptionRepository(session)
        self.journal = SqlAlchemyJournalRepository(session, seen)
        self.sales = SqlAlchemySaleRepository(session)
        self.idempotency = SqlAlchemyIdempotencyRepository(session)
        self.bulk_awards = SqlAlchemyBulkAwardRepository(session)
        self.displays = SqlAlchemyDisplayRepository(session)
        self.expiry = SqlAlchemyExpiryRepository(session)
        self.guest_sales = SqlAlchemyGuestSaleRepository(session)
        self.periods = SqlAlchemyPeriodRepository(session)
        self.valuation = SqlAlchemyValuationRepository(session)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                await self._session.rollback()
            await self._session.close()
        finally:
            self._unlock()
        if self._committed and self._events:
            await self._publish()

    async def _lock(self) -> None:
        if self._database.write_lock is not None:
            await self._database.write_lock.acquire()

    def _unlock(self) -> None:
        if self._database.write_lock is not None and not self._read_only:
            self._database.write_lock.release()

    def record(self, event: Event) -> None:
        self._events.append(event)

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        inbox_rows = inbox.take_enqueued(self._session)
        balance_changes = [e for e in self._events if isinstance(e, BalanceChanged)]
        if balance_changes:
            self._outbox_ids = await outbox.add(
                self._session, balance_changes, datetime.now(UTC), inbox_rows
            )
        else:
            await inbox.write(self._session, inbox_rows)
        await self._session.commit()
        self._committed = True

    async def _publish(self) -> None:
        # The change is committed whatever happens here; if it is not published now, the
        # outbox relay publishes it later.
        try:
            await self._publisher.publish(self._events)
            outbox.note_published(self._database, self._outbox_ids)
        except Exception as error:
            # A broker outage fails every publish: one line each, not a traceback each.
            logger.warning(
                "publishing %d committed change(s) failed (%s: %s); the outbox relay will",
                len(self._events),
                type(error).__name__,
                error,
            )
