"""Counting the inbox into the rollups, a batch per transaction.

One process counts at a time (on PostgreSQL a transaction-scoped advisory lock; on SQLite
the single writer), so a batch is counted exactly once and the figures that depend on what
was counted before (who was active already, their gaps) see every earlier batch. Adding
is read-modify-write in Python, exact on both databases (SQLite keeps money as text).

The parts: adding deltas by key (deltas), who was active when (counting_activity), the
campaigns' sales and spends (counting_campaigns); the values' percentiles and customers'
lives are counted here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.analytics import CustomerLife, Metric, Percentiles
from persistence.analytics import events
from persistence.analytics.counting_activity import FIRST_DAY, LAST_DAY, count_activity
from persistence.analytics.counting_campaigns import (
    backfill_campaign,
    count_campaign_sales,
    count_campaign_spends,
)
from persistence.analytics.deltas import Deltas, add_to, existing_rows, rows_for_keys, upsert
from persistence.analytics.inbox import Counted
from persistence.analytics.tally import EVERY_PERIOD, Number, Tally, Zones
from persistence.models import (
    AnalyticsInboxRow,
    RollupCustomerRow,
    RollupPercentileRow,
    RollupRewardRow,
    RollupSegmentRow,
    RollupStaffRow,
    RollupTotalsRow,
    RollupValueRow,
)

__all__ = [
    "FIRST_DAY",
    "LAST_DAY",
    "ROLLUP_LOCK",
    "BatchCounted",
    "add_to",
    "apply",
    "count_batch",
    "take_the_lock",
]

# The lock every counting transaction takes on PostgreSQL ("loyalty rollups").
ROLLUP_LOCK = 7_344_220_611


@dataclass(frozen=True)
class BatchCounted:
    """What one batch counted: how many inbox rows, and the stores whose day changed."""

    rows: int
    stores: frozenset[str]
    # Another process was counting: nothing was looked at.
    locked_out: bool = False


async def take_the_lock(session: AsyncSession) -> bool:
    if session.bind is None or session.bind.dialect.name != "postgresql":
        return True
    locked = await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ROLLUP_LOCK}
    )
    return bool(locked)


async def count_batch(session: AsyncSession, zones: Zones, limit: int) -> BatchCounted:
    """Count the oldest `limit` rows of the inbox into the rollups and delete them; the
    caller commits. Nothing is counted when another process is counting."""
    if not await take_the_lock(session):
        return BatchCounted(0, frozenset(), locked_out=True)
    inbox = (
        await session.execute(
            select(AnalyticsInboxRow.id, AnalyticsInboxRow.kind, AnalyticsInboxRow.ref)
            .order_by(AnalyticsInboxRow.id)
            .limit(limit)
        )
    ).all()
    if not inbox:
        return BatchCounted(0, frozenset())
    refs: defaultdict[str, list[str]] = defaultdict(list)
    for row in inbox:
        refs[row.kind].append(row.ref)
    tally = Tally(zones)
    await events.tally_entries(session, tally, [int(ref) for ref in refs[Counted.ENTRY]])
    sales = await events.tally_sales(session, tally, [int(ref) for ref in refs[Counted.SALE]])
    await events.tally_guest_sales(session, tally, [int(r) for r in refs[Counted.GUEST_SALE]])
    await events.tally_enrolments(session, tally, refs[Counted.ENROLMENT])
    await apply(session, tally)
    await count_campaign_sales(session, zones, sales)
    for job in refs[Counted.HOLDOUT]:
        await backfill_campaign(session, zones, job)
    counted = [row.id for row in inbox]
    await session.execute(
        delete(AnalyticsInboxRow).where(AnalyticsInboxRow.id.in_(counted)),
        execution_options={"synchronize_session": False},
    )
    stores = frozenset(str(key[3]) for key in tally.totals if key[3] != "*")
    return BatchCounted(len(inbox), stores)


async def apply(session: AsyncSession, tally: Tally) -> None:
    await add_to(session, RollupTotalsRow, tally.totals)
    await add_to(session, RollupStaffRow, tally.staff)
    await add_to(session, RollupRewardRow, tally.rewards)
    await add_to(session, RollupValueRow, tally.values)
    await _recompute_percentiles(session, tally.values)
    await count_activity(session, tally)
    await _count_lives(session, tally.lives)
    await count_campaign_spends(session, tally)


async def _recompute_percentiles(
    session: AsyncSession, values: Mapping[tuple[object, ...], Mapping[str, Number]]
) -> None:
    """The percentiles of every whole period whose values changed, from all its values
    (of days, weeks and months: quarters and years only add up long ranges; bins are
    no metric of their own)."""
    kept = {granularity.value for granularity in EVERY_PERIOD}
    metrics = {metric.value for metric in Metric}
    touched = sorted({key[:6] for key in values if key[1] in kept and key[4] in metrics}, key=repr)
    if not touched:
        return
    counts: defaultdict[tuple[object, ...], list[tuple[Decimal, int]]] = defaultdict(list)
    names = ("zone", "granularity", "period", "scope", "metric", "key")
    for row in await rows_for_keys(session, RollupValueRow, names, touched):
        counts[tuple(row[n] for n in names)].append((row["value"], row["count"]))
    rows_out = []
    for key in touched:
        figures = Percentiles.of(counts[key])
        rows_out.append(
            dict(zip(names, key, strict=True))
            | {"count": figures.count, "p50": figures.p50, "p90": figures.p90, "p95": figures.p95}
        )
    await upsert(session, RollupPercentileRow, rows_out)


async def _count_lives(
    session: AsyncSession, lives: Mapping[tuple[object, ...], Mapping[str, Number]]
) -> None:
    """Each customer's history, and the segment sums it moves between."""
    if not lives:
        return
    before = await existing_rows(session, RollupCustomerRow, list(lives))
    segments = Deltas()
    rows = []
    for key, delta in lives.items():
        old_row = before.get(key)
        old = None if old_row is None else _life(old_row)
        new = _life(
            {
                name: (old_row or {}).get(name, 0) + delta.get(name, 0)
                for name in ("sales", "revenue", "points_earned", "points_redeemed")
            }
        )
        if old is not None:
            _segment_sums(segments, old, -1)
        _segment_sums(segments, new, 1)
        rows.append({"customer_id": key[0], **vars(new)})
    await upsert(session, RollupCustomerRow, rows)
    await add_to(session, RollupSegmentRow, segments)


def _life(row: Mapping[str, Any]) -> CustomerLife:
    return CustomerLife(
        int(row["sales"]),
        Decimal(row["revenue"]),
        int(row["points_earned"]),
        int(row["points_redeemed"]),
    )


def _segment_sums(segments: Deltas, life: CustomerLife, sign: int) -> None:
    x, y = life.activity, life.sales
    segments.add(
        (life.participation.value,),
        customers=sign,
        sales=sign * y,
        revenue=sign * life.revenue,
        repeaters=sign * int(y >= 2),
        x=sign * x,
        y=sign * y,
        xx=sign * x * x,
        yy=sign * y * y,
        xy=sign * x * y,
    )
