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
    rows = await session.execute(
        select(numbered.c.bulk_award_id, numbered.c.customer_id, numbered.c.failure_code)
        .add_columns(numbered.c.failure_message)
        .where(numbered.c.n <= limit)
        .order_by(numbered.c.bulk_award_id, numbered.c.position)
    )
    failures: defaultdict[str, list[RecipientFailure]] = defaultdict(list)
    for job, customer, code, message in rows:
        failures[job].append(RecipientFailure(customer, str(code), str(message)))
    return failures
