"""Bulk awards: the same points to many customers, as a job that runs in batches.

A job lists its recipients up front. Each recipient is awarded in the same
transaction that marks it done, so a worker that dies mid-job leaves every
recipient either awarded once or still pending, and any worker can resume.
A batch is worked out in memory and written set-based: a handful of
statements per batch, not round trips per customer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.accounts import Account
from domain.errors import CustomerNotFound, DomainError, InvalidInput
from domain.idempotency import fingerprint
from domain.ledger import Actor, JournalEntry, Movement

MAX_RECIPIENTS = 10_000
MAX_AWARD_POINTS = 1_000_000
MAX_REASON = 200
MAX_CAMPAIGN_ID = 64
MAX_HOLDOUT_PERCENT = 50
# A recipient's place among HOLDOUT_BUCKETS, by a hash of the job and the customer: those
# below percent * HOLDOUT_BUCKETS / 100 are held out. persistence/campaigns.py computes the
# same in SQL on PostgreSQL; a test holds the two equal.
HOLDOUT_BUCKETS = 10_000


class BulkAwardStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class RecipientStatus(StrEnum):
    PENDING = "PENDING"
    AWARDED = "AWARDED"
    FAILED = "FAILED"
    # Kept out at random as the job's control group: never awarded, never a failure.
    HOLDOUT = "HOLDOUT"


@dataclass(frozen=True)
class Segment:
    """Customers chosen by what they are, not by id; every condition given must hold.
    `store_ids`: customers with a sale in one of them; `inactive_since`: no sale since."""

    store_ids: frozenset[str] = frozenset()
    enrolled_from: datetime | None = None
    enrolled_until: datetime | None = None
    inactive_since: datetime | None = None
    everyone: bool = False

    def __post_init__(self) -> None:
        narrowed = bool(self.store_ids) or any(
            when is not None
            for when in (self.enrolled_from, self.enrolled_until, self.inactive_since)
        )
        if narrowed == self.everyone:
            raise InvalidInput(
                "a segment is either everyone: true or at least one condition",
                ("input", "segment"),
            )
        if self.enrolled_from and self.enrolled_until and self.enrolled_until <= self.enrolled_from:
            raise InvalidInput(
                "enrolledUntil must be after enrolledFrom", ("input", "segment", "enrolledUntil")
            )

    def as_request(self) -> dict[str, object]:
        return {
            "store_ids": sorted(self.store_ids),
            "enrolled_from": None if self.enrolled_from is None else self.enrolled_from.isoformat(),
            "enrolled_until": None
            if self.enrolled_until is None
            else self.enrolled_until.isoformat(),
            "inactive_since": None
            if self.inactive_since is None
            else self.inactive_since.isoformat(),
            "everyone": self.everyone,
        }


@dataclass(frozen=True)
class BulkAwardPoints:
    """To the customers listed, or to a segment (resolved when the job is created)."""

    idempotency_key: str
    customer_ids: tuple[str, ...]
    points: int
    reason: str
    campaign_id: str | None
    requested_at: datetime
    actor: Actor | None = None
    segment: Segment | None = None
    holdout_percent: int = 0

    def __post_init__(self) -> None:
        if bool(self.customer_ids) == (self.segment is not None):
            raise InvalidInput(
                "give customerIds, or a segment with an empty customerIds list", ("input",)
            )

    def fingerprint(self) -> str:
        request = {
            "customer_ids": sorted(self.customer_ids),
            "points": self.points,
            "reason": self.reason,
            "campaign_id": self.campaign_id,
        }
        if self.segment is not None:
            request["segment"] = self.segment.as_request()
        # Only when asked for: a request without a holdout keeps the fingerprint it had
        # before holdouts existed.
        if self.holdout_percent:
            request["holdout_percent"] = self.holdout_percent
        return fingerprint("bulkAwardPoints", request)


def recipients(customer_ids: list[str], *, segment_given: bool = False) -> tuple[str, ...]:
    """The distinct ids in the order given: a customer listed twice is awarded once. With a
    segment the list must be empty."""
    distinct = tuple(dict.fromkeys(customer_id.strip() for customer_id in customer_ids))
    if segment_given:
        if distinct:
            raise InvalidInput(
                "give customerIds or a segment, not both (leave customerIds empty)",
                ("input", "customerIds"),
            )
        return distinct
    if not distinct or "" in distinct:
        raise InvalidInput(
            "customerIds must list at least one id, none blank", ("input", "customerIds")
        )
    if len(distinct) > MAX_RECIPIENTS:
        raise InvalidInput(
            f"at most {MAX_RECIPIENTS} customer ids per bulk award; use a segment for more",
            ("input", "customerIds"),
        )
    return distinct


def holdout_percent(percent: int | None) -> int:
    """The share of the recipients kept out as a control group, in whole percent."""
    if percent is None:
        return 0
    if not 0 <= percent <= MAX_HOLDOUT_PERCENT:
        raise InvalidInput(
            f"holdoutPercent must be between 0 and {MAX_HOLDOUT_PERCENT}",
            ("input", "holdoutPercent"),
        )
    return percent


def holdout_bucket(bulk_award_id: str, customer_id: str) -> int:
    """Where a customer falls among HOLDOUT_BUCKETS for a job: random-looking, reproducible."""
    digest = hashlib.sha256(f"{bulk_award_id}:{customer_id}".encode()).hexdigest()
    return int(digest[:8], 16) % HOLDOUT_BUCKETS


def holdout_threshold(percent: int) -> int:
    """Buckets below this are held out."""
    return percent * HOLDOUT_BUCKETS // 100


def held_out(bulk_award_id: str, customer_ids: Iterable[str], percent: int) -> frozenset[str]:
    """The customers a job with this holdout keeps out."""
    threshold = holdout_threshold(percent)
    return frozenset(
        customer_id
        for customer_id in customer_ids
        if holdout_bucket(bulk_award_id, customer_id) < threshold
    )


def award_points(points: int) -> int:
    if not 1 <= points <= MAX_AWARD_POINTS:
        raise InvalidInput(f"points must be between 1 and {MAX_AWARD_POINTS}", ("input", "points"))
    return points


def reason(text: str) -> str:
    stripped = text.strip()
    if not stripped or len(stripped) > MAX_REASON:
        raise InvalidInput(f"reason must be 1 to {MAX_REASON} characters", ("input", "reason"))
    return stripped


def campaign(campaign_id: str | None) -> str | None:
    if campaign_id is None or not campaign_id.strip():
        return None
    if len(campaign_id.strip()) > MAX_CAMPAIGN_ID:
        raise InvalidInput(
            f"campaignId must be at most {MAX_CAMPAIGN_ID} characters", ("input", "campaignId")
        )
    return campaign_id.strip()


@dataclass(frozen=True)
class BulkAward:
    id: str
    idempotency_key: str
    status: BulkAwardStatus
    points: int
    reason: str
    campaign_id: str | None
    total_customers: int
    awarded_customers: int
    failed_customers: int
    created_at: datetime
    completed_at: datetime | None
    created_by: Actor | None = None
    reverses_id: str | None = None
    holdout_percent: int = 0
    holdout_customers: int = 0


@dataclass(frozen=True)
class Recipient:
    bulk_award_id: str
    customer_id: str


@dataclass(frozen=True)
class RecipientFailure:
    customer_id: str
    code: str
    message: str


@dataclass(frozen=True)
class ReverseBulkAward:
    """Take a completed bulk award back from everyone it reached, as a job of its own."""

    bulk_award_id: str
    idempotency_key: str
    reason: str
    requested_at: datetime
    actor: Actor | None = None

    def fingerprint(self) -> str:
        request: dict[str, object] = {"bulk_award_id": self.bulk_award_id, "reason": self.reason}
        return fingerprint("reverseBulkAward", request)


@dataclass(frozen=True)
class BatchAwards:
    """One batch worked out: the entries to post (in order), the recipient of each, the
    accounts as they end, and the recipients that could not be awarded."""

    entries: tuple[JournalEntry, ...]
    awarded: tuple[Recipient, ...]
    accounts: tuple[Account, ...]
    failed: tuple[tuple[Recipient, DomainError], ...]

    def progress(self) -> dict[str, tuple[int, int]]:
        """Per job: recipients awarded and failed in this batch."""
        counts = {r.bulk_award_id: (0, 0) for r in (*self.awarded, *(f for f, _ in self.failed))}
        for recipient in self.awarded:
            done, failed = counts[recipient.bulk_award_id]
            counts[recipient.bulk_award_id] = (done + 1, failed)
        for recipient, _ in self.failed:
            done, failed = counts[recipient.bulk_award_id]
            counts[recipient.bulk_award_id] = (done, failed + 1)
        return counts


def award_batch(
    jobs: Mapping[str, BulkAward],
    batch: Sequence[Recipient],
    accounts: Mapping[str, Account],
    now: datetime,
    reversed_entries: Mapping[Recipient, int] | None = None,
) -> BatchAwards:
    """Award every recipient of a batch against its account (a customer in two jobs of the
    batch is awarded twice, one after the other); pure, so a batch is a few statements.
    A reversal job takes back instead, naming the entry of the award it reverses
    (`reversed_entries`, by the reversal's recipient)."""
    current = dict(accounts)
    entries: list[JournalEntry] = []
    awarded: list[Recipient] = []
    failed: list[tuple[Recipient, DomainError]] = []
    for recipient in sorted(batch, key=lambda r: (r.customer_id, r.bulk_award_id)):
        account = current.get(recipient.customer_id)
        if account is None:
            failed.append((recipient, CustomerNotFound(f"no customer {recipient.customer_id}")))
            continue
        job = jobs[recipient.bulk_award_id]
        movement = Movement(None, None, None, job.idempotency_key, now, job.created_by, job.reason)
        if job.reverses_id is None:
            account, entry = account.award(job.points, movement, job.campaign_id)
        else:
            original = (reversed_entries or {})[recipient]
            account, entry = account.reverse_award(job.points, movement, job.campaign_id, original)
        current[recipient.customer_id] = account
        entries.append(entry)
        awarded.append(recipient)
    changed = tuple(current[r.customer_id] for r in dict.fromkeys(awarded))
    return BatchAwards(tuple(entries), tuple(awarded), changed, tuple(failed))
