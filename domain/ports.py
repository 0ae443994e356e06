"""What the use cases need from the outside world, as Protocols."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Protocol, Self

from domain.accounts import Account
from domain.campaigns import BulkAward, Recipient, Segment
from domain.customers import Customer
from domain.displays import Display
from domain.errors import DomainError
from domain.events import Event
from domain.expiry import ExpiryKind
from domain.guests import GuestSale, RecordGuestSale
from domain.idempotency import StoredOutcome
from domain.ledger import Actor, JournalEntry, PostedEntry
from domain.periods import PeriodChange
from domain.points import RecordedSale
from domain.refunds import Refund, SoldSale
from domain.rewards import Redemption, Reward
from domain.rules import EarningRule
from domain.stores import Store
from domain.valuation import ValuationChange


class StoreRepository(Protocol):
    async def get(self, store_id: str) -> Store | None: ...

    async def add(self, store: Store) -> None:
        """Raises DuplicateStore when the code is taken."""


class CustomerRepository(Protocol):
    async def add(self, customer: Customer) -> None:
        """Raises DuplicateCustomer when an identifier is taken."""

    async def lock_account(self, customer_id: str) -> Account | None:
        """The account, locked against other writers until the unit of work ends."""

    async def lock_accounts(
        self, customer_ids: Sequence[str], *, skip_locked: bool = False
    ) -> dict[str, Account]:
        """The accounts of those customers that exist, locked in id order; with
        `skip_locked`, leaving out those another transaction holds."""

    async def account(self, customer_id: str) -> Account | None: ...

    async def get(self, customer_id: str) -> Customer | None: ...

    async def save_account(self, account: Account) -> None: ...

    async def save_accounts(self, accounts: Sequence[Account]) -> None: ...


class RuleRepository(Protocol):
    async def current(self) -> Sequence[EarningRule]:
        """The current version of every rule, retired ones included."""

    async def as_of(self, at: datetime) -> Sequence[EarningRule]:
        """The version of every rule that was current at `at`."""

    async def lock_current(self, rule_id: str) -> EarningRule | None:
        """The rule's current version, locked against another edit until the work ends."""

    async def add_version(self, rule: EarningRule, saved_at: datetime, actor: Actor | None) -> None:
        """Store a new version and make it the current one."""

    async def used_today(
        self, customer_id: str, days: Mapping[str, tuple[datetime, datetime]]
    ) -> Mapping[str, Decimal]:
        """Per rule id, the points it gave the customer within the given range of instants."""


class RewardRepository(Protocol):
    async def get(self, reward_id: str) -> Reward | None: ...

    async def all(self) -> Sequence[Reward]: ...

    async def add(self, reward: Reward, saved_at: datetime) -> None:
        """Raises InvalidInput when the id is taken."""

    async def save(self, reward: Reward, saved_at: datetime) -> None: ...

    async def take_one(self, reward_id: str) -> bool:
        """One fewer in stock; False when none was left."""


class RedemptionRepository(Protocol):
    async def add(self, entry_id: int, redemption: Redemption) -> None: ...

    async def get(self, entry_id: int) -> Redemption | None: ...


class JournalRepository(Protocol):
    async def add(self, entry: JournalEntry) -> PostedEntry: ...

    async def add_many(self, entries: Sequence[JournalEntry]) -> list[PostedEntry]:
        """Post entries in the order given, set-based."""

    async def get(self, entry_id: int) -> PostedEntry | None: ...


class SaleRepository(Protocol):
    async def record(self, sale: RecordedSale) -> None:
        """The sale, its lines and every rule's contribution to its points."""

    async def redeem_entry_of(self, earn_entry_id: int) -> PostedEntry | None:
        """The entry that spent points on the sale earned by `earn_entry_id`, if any."""

    async def customer_of(self, earn_entry_id: int) -> str | None: ...

    async def sold(self, earn_entry_id: int) -> SoldSale | None: ...

    async def record_refund(self, posted: PostedEntry, refund: Refund) -> None: ...

    async def refund_of(self, entry_id: int) -> Refund | None: ...


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

    async def add_recipients(
        self, bulk_award_id: str, customer_ids: Sequence[str], holdout: frozenset[str]
    ) -> None:
        """The listed customers as recipients, those in `holdout` held out."""

    async def add_segment(
        self, bulk_award_id: str, segment: Segment, holdout_percent: int
    ) -> tuple[int, int]:
        """Add the segment's customers as recipients, set-based, holding out those
        domain.campaigns.held_out chooses; returns how many in all and how many held out,
        which become the job's totals."""

    async def add_reversal_recipients(self, bulk_award_id: str, reversed_id: str) -> int:
        """The customers the reversed job awarded become this job's recipients; returns how
        many, which becomes the job's total."""

    async def reversed_entries(self, batch: Sequence[Recipient]) -> dict[Recipient, int]:
        """For recipients of reversal jobs: the entry of the award each one takes back."""

    async def next_batch(self, limit: int) -> list[Recipient]:
        """Pending recipients, locked for this unit of work; others' locked rows are skipped."""

    async def get(self, bulk_award_id: str) -> BulkAward | None: ...

    async def mark_many(
        self,
        awarded: Sequence[tuple[Recipient, int]],
        failed: Sequence[tuple[Recipient, DomainError]],
    ) -> None:
        """Awarded recipients with their entry ids; failed ones with why."""

    async def settle(self, progress: Mapping[str, tuple[int, int]], now: datetime) -> None:
        """Add a batch's (awarded, failed) to each job's progress; a job with no pending
        recipient left is completed."""


class GuestSaleRepository(Protocol):
    async def record(self, sale: RecordGuestSale, fingerprint: str) -> tuple[GuestSale, str]:
        """Record the sale under its idempotency key, or find the sale holding the key; with
        the fingerprint of the request that recorded it."""


class ExpiryRepository(Protocol):
    async def due(self, kind: ExpiryKind, cutoff: datetime, limit: int) -> list[str]:
        """Customers who may have points to expire (checked again under their lock)."""

    async def points_due(self, kind: ExpiryKind, account: Account, cutoff: datetime) -> int:
        """The locked customer's points that have expired: those earned before the cutoff,
        or (inactivity) the whole balance when there was no sale or redemption since."""


class DisplayRepository(Protocol):
    async def get(self, terminal_id: str) -> Display | None: ...

    async def save(self, display: Display) -> None: ...


class EventPublisher(Protocol):
    async def publish(self, events: Sequence[Event]) -> None: ...


class PeriodRepository(Protocol):
    async def lock(self) -> None: ...

    async def closed_until(self) -> datetime | None: ...

    async def add(self, change: PeriodChange) -> None: ...


class ValuationRepository(Protocol):
    async def add(self, change: ValuationChange) -> None: ...


class UnitOfWork(Protocol):
    @property
    def stores(self) -> StoreRepository: ...

    @property
    def customers(self) -> CustomerRepository: ...

    @property
    def rules(self) -> RuleRepository: ...

    @property
    def rewards(self) -> RewardRepository: ...

    @property
    def redemptions(self) -> RedemptionRepository: ...

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

    @property
    def expiry(self) -> ExpiryRepository: ...

    @property
    def guest_sales(self) -> GuestSaleRepository: ...

    @property
    def periods(self) -> PeriodRepository: ...

    @property
    def valuation(self) -> ValuationRepository: ...

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
