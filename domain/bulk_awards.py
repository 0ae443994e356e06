"""Bulk awards: the same points to many customers, as a job that runs in batches.

A job lists its recipients up front. Each recipient is awarded in the same
transaction that marks it done, so a worker that dies mid-job leaves every
recipient either awarded once or still pending, and any worker can resume.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.commands import fingerprint
from domain.errors import InvalidInput
from domain.ledger import Actor

MAX_RECIPIENTS = 10_000
MAX_AWARD_POINTS = 1_000_000
MAX_REASON = 200
MAX_CAMPAIGN_ID = 64


class BulkAwardStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class RecipientStatus(StrEnum):
    PENDING = "PENDING"
    AWARDED = "AWARDED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class BulkAwardPoints:
    idempotency_key: str
    customer_ids: tuple[str, ...]
    points: int
    reason: str
    campaign_id: str | None
    requested_at: datetime
    actor: Actor | None = None

    def fingerprint(self) -> str:
        request = {
            "customer_ids": sorted(self.customer_ids),
            "points": self.points,
            "reason": self.reason,
            "campaign_id": self.campaign_id,
        }
        return fingerprint("bulkAwardPoints", request)


def recipients(customer_ids: list[str]) -> tuple[str, ...]:
    """The distinct ids in the order given: a customer listed twice is awarded once."""
    distinct = tuple(dict.fromkeys(customer_id.strip() for customer_id in customer_ids))
    if not distinct or "" in distinct:
        raise InvalidInput(
            "customerIds must list at least one id, none blank", ("input", "customerIds")
        )
    if len(distinct) > MAX_RECIPIENTS:
        raise InvalidInput(
            f"at most {MAX_RECIPIENTS} customers per bulk award", ("input", "customerIds")
        )
    return distinct


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


@dataclass(frozen=True)
class Recipient:
    bulk_award_id: str
    customer_id: str


@dataclass(frozen=True)
class RecipientFailure:
    customer_id: str
    code: str
    message: str
