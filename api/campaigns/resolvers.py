"""The campaigns feature's fields: award points to many customers at once, reverse such an
award, and follow either as it runs."""

from __future__ import annotations

import strawberry

from api.campaigns.types import BulkAward, BulkAwardInput, BulkAwardPayload, ReverseBulkAwardInput
from api.context import Info
from api.mutations import mutation
from api.permissions import GUARDED
from domain.campaigns import Segment
from domain.errors import Forbidden
from domain.use_cases import campaigns
from persistence.queries import campaigns as queries


@strawberry.type
class CampaignQueries:
    @strawberry.field(description="A bulk award and its progress.", permission_classes=GUARDED)
    async def bulk_award(self, info: Info, id: strawberry.ID) -> BulkAward | None:
        async with info.context.database.reading() as session:
            job = await queries.bulk_award(session, str(id))
        return None if job is None else BulkAward.of(job)


@strawberry.type
class CampaignMutations:
    @mutation("Award the same points to many customers at once (promotions).")
    async def bulk_award_points(self, info: Info, input: BulkAwardInput) -> BulkAwardPayload:
        context = info.context
        command = input.to_command(context.now(), context.actor())
        _require_segment_scope(info, command.segment)
        job = await campaigns.bulk_award_points(context.uow(), command)
        context.services.worker.wake()
        return BulkAwardPayload(bulk_award=BulkAward.of(job))

    @mutation(
        "Take a completed bulk award back from everyone it reached, as a job: a REVERSAL "
        "entry each, pointing at their award. Points already spent become owed."
    )
    async def reverse_bulk_award(
        self, info: Info, input: ReverseBulkAwardInput
    ) -> BulkAwardPayload:
        context = info.context
        command = input.to_command(context.now(), context.actor())
        job = await campaigns.reverse_bulk_award(context.uow(), command)
        context.services.worker.wake()
        return BulkAwardPayload(bulk_award=BulkAward.of(job))


def _require_segment_scope(info: Info, segment: Segment | None) -> None:
    """A manager's segment is within its stores: it names them, all in scope."""
    principal = info.context.principal
    if segment is None or principal is None or principal.stores is None:
        return
    if not segment.store_ids:
        raise Forbidden(
            "a segment beyond your stores needs an admin: name your storeIds",
            ("input", "segment", "storeIds"),
        )
    outside = sorted(store for store in segment.store_ids if not principal.may_act_in(store))
    if outside:
        raise Forbidden(
            f"this token does not cover store(s) {', '.join(outside)}",
            ("input", "segment", "storeIds"),
        )
