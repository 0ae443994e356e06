"""Counting the inbox into the rollups, a batch per transaction.

One process counts at a time (on PostgreSQL a transaction-scoped advisory lock; on SQLite
the single writer), so a batch is counted exactly once and the figures that depend on what
was counted before (who was active already, their gaps) see every earlier batch. Adding
is read-modify-write in Python, exact on both databases (SQLite keeps money as text).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import delete, insert, select, text, tuple_
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from domain.analytics import (
    CustomerLife,
    Granularity,
    Percentiles,
    local_day,
    next_period,
    period_of,
    previous_period,
)
from persistence.analytics import events
from persistence.analytics.inbox import Counted
from persistence.analytics.tally import EVERY_PERIOD, Number, Tally, Zones
from persistence.base import Base, table_of
from persistence.database import insert_or_ignore
from persistence.models import (
    AnalyticsInboxRow,
    BulkAwardRecipientRow,
    BulkAwardRow,
    CustomerRow,
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

# The lock every counting transaction takes on PostgreSQL ("loyalty rollups").
ROLLUP_LOCK = 7_344_220_611
FIRST_DAY = date(1, 1, 1)
LAST_DAY = date(9999, 12, 31)
CHUNK = 400
KeyT = TypeVar("KeyT")


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
    inbox = list(
        (
            await session.execute(
                select(AnalyticsInboxRow).order_by(AnalyticsInboxRow.id).limit(limit)
            )
        ).scalars()
    )
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
    await _count_campaign_sales(session, zones, sales)
    for job in refs[Counted.HOLDOUT]:
        await _backfill_campaign(session, zones, job)
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
    await _count_activity(session, tally)
    await _count_lives(session, tally.lives)
    await _count_campaign_spends(session, tally)


async def _count_campaign_spends(session: AsyncSession, tally: Tally) -> None:
    """Each spend of a campaign's points, and what it adds to its local days."""
    if not tally.campaign_spends:
        return
    rows = [
        {"bulk_award_id": job, "entry_id": entry, "spent_at": when, "points": points}
        for (job, entry), (when, points) in tally.campaign_spends.items()
    ]
    await session.execute(insert(table_of(RollupCampaignSpendRow)), rows)
    days = _Deltas()
    for (job, _entry), (when, points) in tally.campaign_spends.items():
        for zone, day in tally.zones.days(when):
            days[(zone, job, False, day)]["points_spent"] += points
    await add_to(session, RollupCampaignDayRow, days)


def _key_names(model: type[Base]) -> list[str]:
    return [column.name for column in table_of(model).primary_key.columns]


def _chunks(items: Sequence[KeyT], size: int = CHUNK) -> Iterator[Sequence[KeyT]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _is_postgres(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


async def _rows_for_keys(
    session: AsyncSession,
    model: type[Base],
    names: Sequence[str],
    keys: Sequence[tuple[object, ...]],
) -> list[dict[str, Any]]:
    """The rows whose columns `names` are one of `keys`: on PostgreSQL joined with the keys
    as a VALUES list (index lookups; a row-value IN list would scan), on SQLite by IN."""
    table = table_of(model)
    found: list[dict[str, Any]] = []
    if not _is_postgres(session):
        for chunk in _chunks(keys):
            rows = await session.execute(
                select(table).where(tuple_(*(table.c[name] for name in names)).in_(chunk))
            )
            found += [dict(row) for row in rows.mappings()]
        return found
    for chunk in _chunks(keys, 5000):
        rows = await session.execute(_joined_with_keys(table, names), _as_arrays(names, chunk))
        found += [dict(row) for row in rows.mappings()]
    return found


def _joined_with_keys(table: Any, names: Sequence[str]) -> Any:
    """SELECT the table's rows joined with unnest(one array per key column): a handful of
    parameters however many keys (a VALUES list would bind and compile each one)."""
    arrays = ", ".join(f"CAST(:{name} AS {_array_type(table.c[name])})" for name in names)
    matched = " AND ".join(f'{table.name}."{name}" = wanted."{name}"' for name in names)
    listed = ", ".join(f'"{name}"' for name in names)
    selected = ", ".join(f'{table.name}."{c.name}"' for c in table.columns)
    return text(
        f"SELECT {selected} FROM {table.name} "  # noqa: S608 (names are the model's)
        f"JOIN unnest({arrays}) AS wanted({listed}) ON {matched}"
    ).columns(*table.columns)


def _array_type(column_: Any) -> str:
    python_type = column_.type.python_type
    if python_type is date:
        return "date[]"
    if python_type is Decimal:
        return "numeric[]"
    return "bigint[]" if python_type is int else "text[]"


def _as_arrays(names: Sequence[str], keys: Sequence[tuple[object, ...]]) -> dict[str, list[object]]:
    return {name: [key[index] for key in keys] for index, name in enumerate(names)}


async def _existing(
    session: AsyncSession, model: type[Base], keys: Sequence[tuple[object, ...]]
) -> dict[tuple[object, ...], dict[str, Any]]:
    names = _key_names(model)
    rows = await _rows_for_keys(session, model, names, keys)
    return {tuple(row[name] for name in names): row for row in rows}


async def add_to(
    session: AsyncSession,
    model: type[Base],
    deltas: Mapping[tuple[object, ...], Mapping[str, Number]],
) -> None:
    """Add each delta to the row of its key (a new row starts at zero): on PostgreSQL in the
    upsert itself (NUMERIC adds exactly), on SQLite read, added here and written back (it
    keeps money as text and would add it as floats)."""
    if not deltas:
        return
    table, names = table_of(model), _key_names(model)
    values_ = [c.name for c in table.columns if c.name not in names]
    existing = {} if _is_postgres(session) else await _existing(session, model, list(deltas))
    merged = []
    for key, delta in deltas.items():
        row = existing.get(key) or {
            **dict(zip(names, key, strict=True)),
            **dict.fromkeys(values_, 0),
        }
        for name, amount in delta.items():
            row[name] = row[name] + amount
        merged.append(row)
    if not _is_postgres(session):
        await _upsert(session, model, merged)
        return
    statement = postgresql.insert(table)
    added = {name: table.c[name] + statement.excluded[name] for name in values_}
    for chunk in _chunks(merged, 5000):
        await session.execute(
            statement.on_conflict_do_update(index_elements=names, set_=added), list(chunk)
        )


async def _upsert(session: AsyncSession, model: type[Base], rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table, names = table_of(model), _key_names(model)
    statement = insert_or_ignore(session, table)
    updated = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in names}
    await session.execute(statement.on_conflict_do_update(index_elements=names, set_=updated), rows)


async def _recompute_percentiles(
    session: AsyncSession, values: Mapping[tuple[object, ...], Mapping[str, Number]]
) -> None:
    """The percentiles of every whole period whose values changed, from all its values."""
    touched = sorted({key[:6] for key in values}, key=repr)
    if not touched:
        return
    counts: defaultdict[tuple[object, ...], list[tuple[Decimal, int]]] = defaultdict(list)
    names = ("zone", "granularity", "period", "scope", "metric", "key")
    for row in await _rows_for_keys(session, RollupValueRow, names, touched):
        counts[tuple(row[n] for n in names)].append((row["value"], row["count"]))
    rows_out = []
    for key in touched:
        figures = Percentiles.of(counts[key])
        rows_out.append(
            dict(zip(names, key, strict=True))
            | {"count": figures.count, "p50": figures.p50, "p90": figures.p90, "p95": figures.p95}
        )
    await _upsert(session, RollupPercentileRow, rows_out)


# Joined with the keys as arrays: a row-value IN list would filter the scope's every gap.
FORGET_EMPTY_GAPS = text(
    "DELETE FROM rollup_gaps AS g USING unnest(CAST(:zone AS text[]), CAST(:scope AS text[]), "
    "CAST(:after AS date[]), CAST(:before AS date[])) AS w(zone, scope, after, before) "
    "WHERE g.zone = w.zone AND g.scope = w.scope AND g.after = w.after "
    "AND g.before = w.before AND g.customers = 0"
)


async def _forget_empty_gaps(session: AsyncSession, keys: Sequence[tuple[object, ...]]) -> None:
    """Delete the gaps this batch took customers from that no customer has any more (a
    row of 0 adds nothing to any count, but every read of the gaps would step over it)."""
    table = table_of(RollupGapRow)
    names = ("zone", "scope", "after", "before")
    if _is_postgres(session):
        for chunk in _chunks(keys, 5000):
            await session.execute(FORGET_EMPTY_GAPS, _as_arrays(names, chunk))
        return
    for chunk in _chunks(keys):
        await session.execute(
            delete(table).where(
                tuple_(*(table.c[name] for name in names)).in_(list(chunk)),
                table.c.customers == 0,
            )
        )


async def _count_activity(session: AsyncSession, tally: Tally) -> None:
    """Who was active when: new customer periods, active and retained counts, the gaps
    between active days, and the cohorts' months."""
    if not tally.active_days:
        return
    customers = sorted({customer for _, _, customer, _ in tally.active_days})
    known = await _known_periods(session, customers)
    enrolled = await _enrolments(session, customers)
    activity = _Deltas()
    gaps = _Deltas()
    cohorts = _Deltas()
    new_rows: list[dict[str, object]] = []
    for zone, scope, customer, day in sorted(tally.active_days):
        for granularity in EVERY_PERIOD:
            period = period_of(day, granularity)
            seen = known[(zone, granularity.value, scope, customer)]
            if period in seen:
                continue
            if granularity is Granularity.DAY:
                _move_gaps(gaps, zone, scope, seen, period)
            seen.add(period)
            new_rows.append(
                {
                    "zone": zone,
                    "granularity": granularity.value,
                    "scope": scope,
                    "customer_id": customer,
                    "period": period,
                }
            )
            _count_period(activity, zone, granularity, scope, period=period, seen=seen)
            if granularity is Granularity.MONTH and customer in enrolled:
                cohort = period_of(
                    local_day(enrolled[customer], tally.zones.infos[zone]), granularity
                )
                cohorts.add((zone, scope, cohort, period), customers=1)
    for chunk in _chunks(new_rows, 2000):
        await session.execute(insert(table_of(RollupCustomerPeriodRow)), list(chunk))
    await add_to(session, RollupActivityRow, activity)
    await add_to(session, RollupGapRow, gaps)
    emptied = [key for key, delta in gaps.items() if delta["customers"] <= 0]
    await _forget_empty_gaps(session, emptied)
    await add_to(session, RollupCohortRow, cohorts)


class _Deltas(defaultdict[tuple[object, ...], defaultdict[str, Number]]):
    def __init__(self) -> None:
        super().__init__(lambda: defaultdict(int))

    def add(self, key: tuple[object, ...], **figures: Number) -> None:
        for name, amount in figures.items():
            self[key][name] += amount


def _count_period(
    activity: _Deltas,
    zone: str,
    granularity: Granularity,
    scope: str,
    *,
    period: date,
    seen: set[date],
) -> None:
    """A customer newly active in `period`: retained there if active in the period before,
    and retained in the period after if active there already (a sale dated back)."""
    activity.add((zone, granularity.value, period, scope), active=1)
    if previous_period(period, granularity) in seen:
        activity.add((zone, granularity.value, period, scope), retained=1)
    following = next_period(period, granularity)
    if following in seen:
        activity.add((zone, granularity.value, following, scope), retained=1)


def _move_gaps(gaps: _Deltas, zone: str, scope: str, seen: set[date], day: date) -> None:
    """A new active day splits the gap it falls in two."""
    before = max((d for d in seen if d < day), default=FIRST_DAY)
    after = min((d for d in seen if d > day), default=LAST_DAY)
    if seen:
        gaps.add((zone, scope, before, after), customers=-1)
    gaps.add((zone, scope, before, day), customers=1)
    gaps.add((zone, scope, day, after), customers=1)


async def _known_periods(
    session: AsyncSession, customers: Sequence[str]
) -> defaultdict[tuple[str, str, str, str], set[date]]:
    known: defaultdict[tuple[str, str, str, str], set[date]] = defaultdict(set)
    for chunk in _chunks(customers):
        rows = await session.execute(
            select(RollupCustomerPeriodRow).where(RollupCustomerPeriodRow.customer_id.in_(chunk))
        )
        for row in rows.scalars():
            known[(row.zone, row.granularity, row.scope, row.customer_id)].add(row.period)
    return known


async def _enrolments(session: AsyncSession, customers: Sequence[str]) -> dict[str, datetime]:
    enrolled: dict[str, datetime] = {}
    for chunk in _chunks(customers):
        rows = await session.execute(
            select(CustomerRow.id, CustomerRow.enrolled_at).where(CustomerRow.id.in_(chunk))
        )
        enrolled |= {str(customer_id): when for customer_id, when in rows.all()}
    return enrolled


async def _count_lives(
    session: AsyncSession, lives: Mapping[tuple[object, ...], Mapping[str, Number]]
) -> None:
    """Each customer's history, and the segment sums it moves between."""
    if not lives:
        return
    before = await _existing(session, RollupCustomerRow, list(lives))
    segments = _Deltas()
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
    await _upsert(session, RollupCustomerRow, rows)
    await add_to(session, RollupSegmentRow, segments)


def _life(row: Mapping[str, Any]) -> CustomerLife:
    return CustomerLife(
        int(row["sales"]),
        Decimal(row["revenue"]),
        int(row["points_earned"]),
        int(row["points_redeemed"]),
    )


def _segment_sums(segments: _Deltas, life: CustomerLife, sign: int) -> None:
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


async def _count_campaign_sales(
    session: AsyncSession, zones: Zones, sales: Sequence[SaleRow]
) -> None:
    """Each sale of a campaign's recipients or holdout, for revenue before and after."""
    if not sales:
        return
    members: defaultdict[str, list[tuple[str, bool]]] = defaultdict(list)
    customers = sorted({sale.customer_id for sale in sales})
    for chunk in _chunks(customers):
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
    for part in _chunks(rows, 2000):
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


async def _backfill_campaign(session: AsyncSession, zones: Zones, bulk_award_id: str) -> None:
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
    days = _Deltas()
    for job, holdout, when, revenue in inserted.all():
        for zone, day in zones.days(when):
            days[(zone, job, holdout, day)]["revenue"] += revenue
    await add_to(session, RollupCampaignDayRow, days)
