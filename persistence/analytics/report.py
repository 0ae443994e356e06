"""Which way a report is read: from the rollups of a kept time zone, else from the raw rows
(exact either way; the rollups are what make years of history fast)."""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from domain.analytics import AnalyticsRange, AnalyticsReport
from persistence.analytics.raw import raw_report
from persistence.analytics.reading import rollup_report


async def analytics_report(
    session: AsyncSession, asked: AnalyticsRange, point_value: Decimal, kept: Collection[str]
) -> AnalyticsReport:
    if asked.zone_name in kept:
        return await rollup_report(session, asked, point_value)
    return await raw_report(session, asked, point_value)
