"""Bulk awards as a manager follows them, and the customers they could not reach."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.campaigns import BulkAward, RecipientFailure, RecipientStatus
from persistence.campaigns import bulk_award_of
from persistence.models import BulkAwardRecipientRow, BulkAwardRow


async def bulk_award(session: AsyncSession, bulk_award_id: str) -> BulkAward | None:
    row = await session.get(BulkAwardRow, bulk_award_id)
    return None if row is None else bulk_award_of(row)


async def bulk_award_failures(
    session: AsyncSession, bulk_award_ids: Sequence[str], limit: int
) -> dict[str, list[RecipientFailure]]:
    """Per job, its first `limit` failed recipients in list order: one statement."""
    recipients = BulkAwardRecipientRow
    numbered = (
        select(
            recipients.bulk_award_id,
            recipients.customer_id,
            recipients.failure_code,
            recipients.failure_message,
            recipients.position,
            func.row_number()
            .over(partition_by=recipients.bulk_award_id, order_by=recipients.position)
            .label("n"),
        )
        .where(
            recipients.bulk_award_id.in_(bulk_award_ids),
            recipients.status == RecipientStatus.FAILED.value,
        )
        .subquery()
    )
    failed = numbered.c
    rows = await session.execute(
        select(
            failed.bulk_award_id, failed.customer_id, failed.failure_code, failed.failure_message
        )
        .where(failed.n <= limit)
        .order_by(failed.bulk_award_id, failed.position)
    )
    failures: defaultdict[str, list[RecipientFailure]] = defaultdict(list)
    for job, customer, code, message in rows:
        failures[job].append(RecipientFailure(customer, str(code), str(message)))
    return failures
