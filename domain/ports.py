"""What the use cases need from the outside world, as Protocols."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Protocol, Self

from domain.accounts import Account
from domain.bulk_awards import BulkAward, Recipient
from domain.commands import EarnPoints
from domain.customers import Customer
from domain.displays import Display
from domain.errors import DomainError, FieldPath
from domain.events import Event
from domain.ledger import JournalEntry, PostedEntry
from domain.points import EarningRates
from domain.rewards import Reward
from domain.stores import Store


class StoreRepository(Protocol):
    async def get(self, store_id: str) -> Store | None: ...

    async def add(self, store: Store) -> None:
        """Raises DuplicateStore when the code is taken."""


class CustomerRepository(Protocol):
    async def add(self, customer: Customer) -> None:
        """Raises DuplicateCustomer when an identifier is taken."""

    async def lock_account(self, customer_id: str) -> Account | None:
        """The account, locked against other writers until the unit of work ends."""

    async def account(self, customer_id: str) -> Account | None: ...

    async def save_account(self, account: Account) -> None: ...


class RateRepository(Protocol):
    async def earning_rates(self, base: Decimal) -> EarningRates: ...


class RewardRepository(Protocol):
    async def get(self, reward_id: str) -> Reward | None: ...

    async def active(self) -> Sequence[Reward]: ...


class JournalRepository(Protocol):
    async def add(self, entry: JournalEntry) -> PostedEntry: ...

    async def get(self, entry_id: int) -> PostedEntry | None: ...


class SaleRepository(Protocol):
    async def record(self, posted: PostedEntry, sale: EarnPoints, rates: EarningRates) -> None: ...


@dataclass(frozen=True)
class StoredOutcome:
    """What an idempotency key produced the first time."""

    fingerprint: str
    entry_id: int | None
    refusal_code: str | None
    refusal_message: str | None
    refusal_field: FieldPath | None


class IdempotencyRepository(Protocol):
    async def claim(self, key: str, fingerprint: str) -> StoredOutcome | None:
        """Take the key for this unit of work, or return what it produced before.

        A concurrent claim of the same key waits for the first one to commit or roll back.
        """

    async def complete(self, key: str, entry_id: int) -> None: ...

    async def refuse(self, key: str, error: DomainError) -> None: ...


class BulkAwardRepository(Protocol):
    async def claim(self, job: BulkAward, fingerprint: str) -> tuple[BulkAward, str] | None:
        """Create the job under its idempotency key, or return the job holding the key
        and the fingerprint of the request that created it."""

    async def add_recipients(self, bulk_award_id: str, customer_ids: Sequence[str]) -> None: ...

    async def next_batch(self, limit: int) -> list[Recipient]:
        """Pending recipients, locked for this unit of work; others' locked rows are skipped."""

    async def get(self, bulk_award_id: str) -> BulkAward | None: ...

    async def mark_awarded(self, recipient: Recipient, entry_id: int) -> None: ...

    async def mark_failed(self, recipient: Recipient, code: str, message: str) -> None: ...

    async def settle(self, bulk_award_ids: Iterable[str], now: datetime) -> None:
        """Recount progress; a job with no pending recipient left is completed."""


class DisplayRepository(Protocol):
    async def get(self, terminal_id: str) -> Display | None: ...

    async def save(self, display: Display) -> None: ...


class EventPublisher(Protocol):
    async def publish(self, events: Sequence[Event]) -> None: ...


class UnitOfWork(Protocol):
    @property
    def stores(self) -> StoreRepository: ...

    @property
    def customers(self) -> CustomerRepository: ...

    @property
    def rates(self) -> RateRepository: ...

    @property
    def rewards(self) -> RewardRepository: ...

    @property
    def journal(self) -> JournalRepository: ...

    @property
    def sales(self) -> SaleRepository: ...

    @property
    def idempotency(self) -> IdempotencyRepository: ...

    @property
    def bulk_awards(self) -> BulkAwardRepository: ...

    @property
    def displays(self) -> DisplayRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    def record(self, event: Event) -> None:
        """Publish `event` once the unit of work commits; never if it rolls back."""

    async def commit(self) -> None: ...
