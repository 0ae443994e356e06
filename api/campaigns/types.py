"""Bulk awards: the inputs, the job as a manager follows it, its failures and payload."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.context import Info
from api.mutations import UserError
from domain import campaigns
from domain.campaigns import BulkAward as DomainBulkAward
from domain.campaigns import BulkAwardStatus
from domain.errors import InvalidInput
from domain.idempotency import idempotency_key
from domain.ledger import Actor

strawberry.enum(BulkAwardStatus, name="BulkAwardStatus")


@strawberry.input(
    description="Customers chosen by what they are; every condition given must hold. "
    "Resolved when the job is created."
)
class CustomerSegmentInput:
    store_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Customers with a sale in one of these stores."
    )
    enrolled_from: datetime | None = None
    enrolled_until: datetime | None = strawberry.field(default=None, description="Exclusive.")
    inactive_since: datetime | None = strawberry.field(
        default=None, description="Customers with no sale since then."
    )
    everyone: bool = False

    def to_segment(self) -> campaigns.Segment:
        for name, value in (
            ("enrolledFrom", self.enrolled_from),
            ("enrolledUntil", self.enrolled_until),
            ("inactiveSince", self.inactive_since),
        ):
            if value is not None and value.tzinfo is None:
                raise InvalidInput(f"{name} needs a UTC offset", ("input", "segment", name))
        return campaigns.Segment(
            store_ids=frozenset(str(store).strip() for store in self.store_ids or ()),
            enrolled_from=self.enrolled_from,
            enrolled_until=self.enrolled_until,
            inactive_since=self.inactive_since,
            everyone=self.everyone,
        )


@strawberry.input
class BulkAwardInput:
    idempotency_key: str
    customer_ids: list[strawberry.ID] = strawberry.field(
        description=f"At most {campaigns.MAX_RECIPIENTS}; empty when a segment is given."
    )
    points: int
    reason: str
    campaign_id: strawberry.ID | None = None
    segment: CustomerSegmentInput | None = strawberry.field(
        default=None, description="Instead of customerIds, for large awards."
    )
    holdout_percent: int | None = strawberry.field(
        default=0,
        description=f"Keep this share (0 to {campaigns.MAX_HOLDOUT_PERCENT} percent) of the "
        "recipients out at random, as a control group: they are listed as HOLDOUT and get "
        "nothing.",
    )

    def to_command(self, now: datetime, actor: Actor) -> campaigns.BulkAwardPoints:
        segment = None if self.segment is None else self.segment.to_segment()
        ids = [str(i) for i in self.customer_ids]
        return campaigns.BulkAwardPoints(
            segment=segment,
            idempotency_key=idempotency_key(self.idempotency_key),
            customer_ids=campaigns.recipients(ids, segment_given=segment is not None),
            points=campaigns.award_points(self.points),
            reason=campaigns.reason(self.reason),
            campaign_id=campaigns.campaign(
                None if self.campaign_id is None else str(self.campaign_id)
            ),
            requested_at=now,
            actor=actor,
            holdout_percent=campaigns.holdout_percent(self.holdout_percent),
        )


@strawberry.input(description="Take a completed bulk award back from everyone it reached.")
class ReverseBulkAwardInput:
    bulk_award_id: strawberry.ID
    idempotency_key: str
    reason: str

    def to_command(self, now: datetime, actor: Actor) -> campaigns.ReverseBulkAward:
        return campaigns.ReverseBulkAward(
            bulk_award_id=str(self.bulk_award_id),
            idempotency_key=idempotency_key(self.idempotency_key),
            reason=campaigns.reason(self.reason),
            requested_at=now,
            actor=actor,
        )


@strawberry.type(description="A customer a bulk award could not be given to, and why.")
class BulkAwardFailure:
    customer_id: strawberry.ID
    code: str
    message: str


@strawberry.type
class BulkAward:
    id: strawberry.ID
    status: BulkAwardStatus
    points: int
    reason: str
    campaign_id: strawberry.ID | None
    total_customers: int = strawberry.field(
        description="Customers listed or in the segment, those held out included."
    )
    awarded_customers: int
    failed_customers: int
    holdout_percent: int = strawberry.field(
        description="The share of the recipients asked to be held out, in percent."
    )
    holdout_customers: int = strawberry.field(
        description="Recipients held out as the control group: never awarded, never failed."
    )
    created_at: datetime
    completed_at: datetime | None
    reverses_bulk_award_id: strawberry.ID | None = strawberry.field(
        description="For a reversal: the bulk award it takes back."
    )

    @strawberry.field(description="Customers not awarded (unknown ids), first 1000 in list order.")
    async def failures(self, info: Info) -> list[BulkAwardFailure]:
        found = await info.context.loaders.failures.load(str(self.id))
        return [
            BulkAwardFailure(
                customer_id=strawberry.ID(failure.customer_id),
                code=failure.code,
                message=failure.message,
            )
            for failure in found
        ]

    @classmethod
    def of(cls, job: DomainBulkAward) -> BulkAward:
        return cls(
            id=strawberry.ID(job.id),
            status=job.status,
            points=job.points,
            reason=job.reason,
            campaign_id=None if job.campaign_id is None else strawberry.ID(job.campaign_id),
            total_customers=job.total_customers,
            awarded_customers=job.awarded_customers,
            failed_customers=job.failed_customers,
            holdout_percent=job.holdout_percent,
            holdout_customers=job.holdout_customers,
            created_at=job.created_at,
            completed_at=job.completed_at,
            reverses_bulk_award_id=None
            if job.reverses_id is None
            else strawberry.ID(job.reverses_id),
        )


@strawberry.type
class BulkAwardPayload:
    bulk_award: BulkAward | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
