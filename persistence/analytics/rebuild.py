"""Rebuilding the rollups from the raw rows: empty them and the inbox, and put every
enrolment, entry, sale, guest sale and bulk award back in the inbox, in one transaction;
the rollup worker then counts it all again, a batch per transaction (interrupt it and it
resumes where it stopped: what is counted left the inbox in the same transaction).

On PostgreSQL the reset runs under the rollup lock, in one REPEATABLE READ snapshot: a
write committed after the snapshot keeps its own inbox row and is not enqueued again, one
committed before it is enqueued once, so nothing is lost or counted twice meanwhile.
"""

from __future__ import annotations

from sqlalchemy import delete, func, insert, literal, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from persistence.analytics.inbox import Counted
from persistence.analytics.rollups import ROLLUP_LOCK
from persistence.base import table_of
from persistence.database import Database
from persistence.models import (
    AnalyticsInboxRow,
    BulkAwardRow,
    CustomerRow,
    GuestSaleRow,
    JournalEntryRow,
    RollupActivityRow,
    RollupCampaignDayRow,
    RollupCampaignSaleRow,
    RollupCampaignSpendRow,
    RollupCohortRow,
    RollupCustomerPeriodRow,
    RollupCustomerRow,
    RollupGapRow,
    RollupPercentileRow,
    RollupRewardRow,
    RollupSegmentRow,
    RollupStaffRow,
    RollupTotalsRow,
    RollupValueRow,
    SaleRow,
)

ROLLUPS = (
    RollupTotalsRow,
    RollupStaffRow,
    RollupRewardRow,
    RollupCustomerPeriodRow,
    RollupActivityRow,
    RollupGapRow,
    RollupCohortRow,
    RollupValueRow,
    RollupPercentileRow,
    RollupCustomerRow,
    RollupSegmentRow,
    RollupCampaignSaleRow,
    RollupCampaignSpendRow,
    RollupCampaignDayRow,
)


async def reset_rollups(database: Database) -> int:
    """Empty the rollups and enqueue everything again: how many inbox rows wait now."""
    if database.is_sqlite:
        async with database.writing() as session:
            await _reset(await session.connection())
            await session.commit()
    else:
        async with database.write_engine.connect() as connection:
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ROLLUP_LOCK})
            await connection.commit()
            try:
                snapshot = await connection.execution_options(isolation_level="REPEATABLE READ")
                await _reset(snapshot)
                await snapshot.commit()
            finally:
                await connection.execution_options(isolation_level="READ COMMITTED")
                await connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": ROLLUP_LOCK}
                )
                await connection.commit()
    return await waiting(database)


async def _reset(connection: AsyncConnection) -> None:
    for model in (*ROLLUPS, AnalyticsInboxRow):
        await connection.execute(delete(table_of(model)))
    inbox = table_of(AnalyticsInboxRow)
    sources = (
        (Counted.ENROLMENT, select(CustomerRow.id)),
        (Counted.ENTRY, select(JournalEntryRow.id)),
        (Counted.SALE, select(SaleRow.id)),
        (Counted.GUEST_SALE, select(GuestSaleRow.id)),
        (
            Counted.HOLDOUT,
            select(BulkAwardRow.id).where(BulkAwardRow.reverses_bulk_award_id.is_(None)),
        ),
    )
    for kind, ids in sources:
        refs = ids.subquery()
        chosen = select(literal(kind.value), func.cast(refs.c[0], inbox.c.ref.type))
        await connection.execute(insert(inbox).from_select(["kind", "ref"], chosen))


async def waiting(database: Database) -> int:
    """Inbox rows not counted yet."""
    async with database.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(AnalyticsInboxRow)) or 0)
