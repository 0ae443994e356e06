"""Counting campaigns into the rollups: the sales of each job's recipients and holdout
(revenue before and after), the spends of its points, and what they add to local days."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Row, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.analytics import events
from persistence.analytics.deltas import Deltas, add_to, chunks
from persistence.analytics.tally import Tally, Zones
from persistence.base import table_of
from persistence.database import insert_or_ignore
from persistence.models import (
    BulkAwardRecipientRow,
    BulkAwardRow,
    RollupCampaignDayRow,
    RollupCampaignSaleRow,
    RollupCampaignSpendRow,
    SaleRow,
)


async def count_campaign_spends(session: AsyncSession, tally: Tally) -> None:
    """Each spend of a campaign's points, and what it adds to its local days."""
    if not tally.campaign_spends:
        return
    rows = [
        {"bulk_award_id": job, "entry_id": entry, "spent_at": when, "points": points}
        for (job, entry), (when, points) in tally.campaign_spends.items()
    ]
    await session.execute(insert(table_of(RollupCampaignSpendRow)), rows)
    days = Deltas()
    for (job, _entry), (when, points) in tally.campaign_spends.items():
        for zone, day in tally.zones.days(when):
            days[(zone, job, False, day)]["points_spent"] += points
    await add_to(session, RollupCampaignDayRow, days)


async def count_campaign_sales(
    session: AsyncSession, zones: Zones, sales: Sequence[Row[Any]]
) -> None:
    """Each sale of a campaign's recipients or holdout, for revenue before and after."""
    if not sales:
        return
    members: defaultdict[str, list[tuple[str, bool]]] = defaultdict(list)
    customers = sorted({sale.customer_id for sale in sales})
    for chunk in chunks(customers):
        for job, customer, status in (await session.execute(_memberships(chunk))).all():
            members[customer].append((job, status == "HOLDOUT"))
    rows = [
        {
            "bulk_award_id": job,
            "sale_id": sale.id,
            "holdout": holdout,
            "occurred_at": sale.occurred_at,
            "revenue": events.money_paid(sale),
        }
        for sale in sales
        for job, holdout in members[sale.customer_id]
    ]
    for part in chunks(rows, 2000):
        await _insert_campaign_sales(session, zones, part)


def _memberships(customers: Iterable[str]) -> Any:
    return (
        select(
            BulkAwardRecipientRow.bulk_award_id,
            BulkAwardRecipientRow.customer_id,
            BulkAwardRecipientRow.status,
        )
        .join(BulkAwardRow, BulkAwardRow.id == BulkAwardRecipientRow.bulk_award_id)
        .where(
            BulkAwardRecipientRow.customer_id.in_(list(customers)),
            BulkAwardRecipientRow.status != "FAILED",
            BulkAwardRow.reverses_bulk_award_id.is_(None),
        )
    )


async def backfill_campaign(session: AsyncSession, zones: Zones, bulk_award_id: str) -> None:
    """Once a job's recipients and holdout are known: every sale they made already (money
    is subtracted here, not in SQL: SQLite would do it in floating point)."""
    recipients = BulkAwardRecipientRow
    chosen = (
        select(recipients.status, SaleRow)
        .join(SaleRow, SaleRow.customer_id == recipients.customer_id)
        .join(BulkAwardRow, BulkAwardRow.id == recipients.bulk_award_id)
        .where(
            recipients.bulk_award_id == bulk_award_id,
            recipients.status != "FAILED",
            BulkAwardRow.reverses_bulk_award_id.is_(None),
        )
    )
    found = await session.stream(chosen.execution_options(yield_per=2000))
    async for partition in found.partitions():
        rows = [
            {
                "bulk_award_id": bulk_award_id,
                "sale_id": sale.id,
                "holdout": status == "HOLDOUT",
                "occurred_at": sale.occurred_at,
                "revenue": events.money_paid(sale),
            }
            for status, sale in partition
        ]
        await _insert_campaign_sales(session, zones, rows)


async def _insert_campaign_sales(
    session: AsyncSession, zones: Zones, rows: Sequence[dict[str, object]]
) -> None:
    """Insert the sales not counted yet, and add those (only those) to their local days."""
    if not rows:
        return
    table = table_of(RollupCampaignSaleRow)
    statement = insert_or_ignore(session, table).on_conflict_do_nothing()
    inserted = await session.execute(
        statement.returning(
            table.c.bulk_award_id, table.c.holdout, table.c.occurred_at, table.c.revenue
        ),
        list(rows),
    )
    days = Deltas()
    for job, holdout, when, revenue in inserted.all():
        for zone, day in zones.days(when):
            days[(zone, job, holdout, day)]["revenue"] += revenue
    await add_to(session, RollupCampaignDayRow, days)
