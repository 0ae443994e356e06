"""Campaign performance from the jobs and the campaign rollups: recipients and holdout as
the job counts them, revenue and spends of a window from its whole local days
(`rollup_campaign_days`) and, for the part days at its edges, from the sales and spends
themselves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Numeric,
    Row,
    String,
    bindparam,
    case,
    cast,
    column,
    exists,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.types import TypeEngine

from domain.analytics import AnalyticsRange, CampaignFigures, holdout_scaled, local_day, midnight
from persistence.analytics.arrays import array_parameters, unnest_rows
from persistence.analytics.reading_context import ReadingContext
from persistence.base import table_of
from persistence.models import (
    BulkAwardRow,
    RollupCampaignDayRow,
    RollupCampaignSaleRow,
    RollupCampaignSpendRow,
)
from persistence.types import UtcDateTime

DAY = timedelta(days=1)
BRANCHES_A_STATEMENT = 200
Job = Row[Any]  # a bulk award's row, read as columns (no ORM object to build)


@dataclass(frozen=True)
class Window:
    """[start, end) in the asked zone: its whole local days and the part days at its
    edges (start None: since the beginning)."""

    whole: tuple[date | None, date]
    parts: tuple[tuple[datetime, datetime], ...]

    @classmethod
    def of(cls, asked: AnalyticsRange, start: datetime | None, end: datetime) -> Window:
        last = local_day(end, asked.zone)  # days before it end by `end`
        if start is None:
            return cls((None, last), _nonempty((midnight(last, asked.zone), end)))
        first = local_day(start, asked.zone)
        if midnight(first, asked.zone) < start:
            first += DAY
        if first >= last:
            return cls((first, first), _nonempty((start, end)))
        edges = ((start, midnight(first, asked.zone)), (midnight(last, asked.zone), end))
        return cls((first, last), _nonempty(*edges))


def _nonempty(*spans: tuple[datetime, datetime]) -> tuple[tuple[datetime, datetime], ...]:
    return tuple((start, end) for start, end in spans if start < end)


async def campaign_figures(context: ReadingContext, point_value: Decimal) -> list[CampaignFigures]:
    """Each bulk award (not a reversal) made before the range ends, made in it or with a
    recipient's sale in it after the award; oldest first."""
    asked = context.asked
    found = await context.execute(_jobs_statement(), {"start": asked.start, "end": asked.end})
    jobs: list[Job] = list(found.all())
    if not jobs:
        return []
    taken_back = await _reversed(context, [job.id for job in jobs])
    sums = _Sums(context)
    for job in jobs:
        sums.ask_for(job)
    await sums.read()
    return [sums.figures(job, taken_back.get(job.id, 0), point_value) for job in jobs]


@cache
def _jobs_statement() -> Any:
    """The campaigns of a range [:start, :end): built once (a report's statements are
    most of its own time to build)."""
    jobs, sales = table_of(BulkAwardRow), table_of(RollupCampaignSaleRow)
    start, end = bindparam("start", type_=UtcDateTime()), bindparam("end", type_=UtcDateTime())
    sold_in_range = exists().where(
        sales.c.bulk_award_id == jobs.c.id,
        sales.c.holdout.is_(False),
        sales.c.occurred_at >= start,
        sales.c.occurred_at >= jobs.c.created_at,
        sales.c.occurred_at < end,
    )
    return (
        select(jobs)
        .where(
            jobs.c.reverses_bulk_award_id.is_(None),
            jobs.c.created_at < end,
            (jobs.c.created_at >= start) | sold_in_range,
        )
        .order_by(jobs.c.created_at, jobs.c.id)
    )


@cache
def _reversals_statement() -> Any:
    jobs = table_of(BulkAwardRow)
    return select(jobs.c.reverses_bulk_award_id, jobs.c.awarded_customers).where(
        jobs.c.reverses_bulk_award_id.in_(bindparam("ids", expanding=True))
    )


async def _reversed(context: ReadingContext, bulk_award_ids: Sequence[str]) -> dict[str, int]:
    """Customers whose award a reversal job took back, by the award reversed."""
    rows = await context.execute(_reversals_statement(), {"ids": list(bulk_award_ids)})
    return {str(job): int(customers) for job, customers in rows.all()}


def _windows(job: Job, asked: AnalyticsRange) -> dict[str, tuple[datetime, datetime]]:
    """The spans a campaign's revenue is read over: after the award (within the range),
    and the holdout's over the same span or, without a holdout, as long a span before."""
    after_start = max(job.created_at, asked.start)
    after = (after_start, asked.end)
    if job.holdout_customers:
        return {"after": after, "holdout": after}
    return {"after": after, "before": (after_start - (asked.end - after_start), after_start)}


# What every campaign's sums are read from, as rows: whole local days of the day rows
# (revenue, or points spent), and part days at a window's edges of the sales and spends.
WHOLE_DAYS = ("tag", "bulk_award_id", "holdout", "since", "until", "spent")
SALES_PART = ("tag", "bulk_award_id", "holdout", "since", "until")
SPENDS_PART = ("tag", "bulk_award_id", "since", "until")
SINCE_THE_BEGINNING = date.min


class _Sums:
    """Every campaign's revenue windows and points spent, each a tagged piece (whole days,
    or a part day at an edge) added up by tag: on PostgreSQL in one statement built once,
    the pieces passed as arrays; on SQLite in branches of a UNION ALL."""

    def __init__(self, context: ReadingContext) -> None:
        self.context = context
        self.asked = context.asked
        self.whole_days: list[tuple[Any, ...]] = []
        self.sales_parts: list[tuple[Any, ...]] = []
        self.spends_parts: list[tuple[Any, ...]] = []
        self.found: dict[str, Decimal] = {}

    def ask_for(self, job: Job) -> None:
        for name, span in _windows(job, self.asked).items():
            holdout = name == "holdout"
            window = Window.of(self.asked, *span)
            tag = f"{job.id} {name}"
            self.whole_days.append((tag, job.id, holdout, *_since_until(window), False))
            self.sales_parts += [(tag, job.id, holdout, *part) for part in window.parts]
        window = Window.of(self.asked, None, self.asked.end)
        tag = f"{job.id} spent"
        self.whole_days.append((tag, job.id, False, *_since_until(window), True))
        self.spends_parts += [(tag, job.id, *part) for part in window.parts]

    async def read(self) -> None:
        if self.context.postgresql:
            parameters = {
                "zone": self.asked.zone_name,
                **array_parameters("whole", WHOLE_DAYS, self.whole_days),
                **array_parameters("sold", SALES_PART, self.sales_parts),
                **array_parameters("spent", SPENDS_PART, self.spends_parts),
            }
            rows = await self.context.execute(_sums_on_postgresql(), parameters)
            self._add(rows.all())
            return
        # SQLite keeps money as text and would add floats: each amount comes back and is
        # added here; and it takes at most 500 terms in one compound SELECT.
        branches = _branches_on_sqlite(self)
        for start in range(0, len(branches), BRANCHES_A_STATEMENT):
            rows = await self.context.execute(
                union_all(*branches[start : start + BRANCHES_A_STATEMENT])
            )
            self._add(rows.all())

    def _add(self, rows: Sequence[tuple[str, Any]]) -> None:
        for tag, amount in rows:
            self.found[tag] = self.found.get(tag, Decimal(0)) + Decimal(amount or 0)

    def total(self, tag: str) -> Decimal:
        return self.found.get(tag, Decimal(0))

    def figures(self, job: Job, reversed_customers: int, point_value: Decimal) -> CampaignFigures:
        awarded, holdout = job.awarded_customers, job.holdout_customers
        points = job.points * awarded - job.points * reversed_customers
        return CampaignFigures(
            bulk_award_id=job.id,
            campaign_id=job.campaign_id or job.id,
            awarded_at=job.created_at,
            recipients=awarded,
            holdout_customers=holdout,
            points_awarded=points,
            cost=(points * point_value).quantize(Decimal("0.01")),
            points_redeemed=int(self.total(f"{job.id} spent")),
            revenue_after=self.total(f"{job.id} after"),
            holdout_revenue=(
                holdout_scaled(self.total(f"{job.id} holdout"), holdout, awarded)
                if holdout
                else None
            ),
            revenue_before=None if holdout else self.total(f"{job.id} before"),
        )


def _since_until(window: Window) -> tuple[date, date]:
    first, last = window.whole
    return (SINCE_THE_BEGINNING if first is None else first), last


@cache
def _sums_on_postgresql() -> Any:
    """(tag, amount) of every piece: each a probe of its table's index (LATERAL)."""
    days = table_of(RollupCampaignDayRow)
    sales, spends = table_of(RollupCampaignSaleRow), table_of(RollupCampaignSpendRow)
    whole = _pieces("whole", WHOLE_DAYS, Date())
    sold = _pieces("sold", SALES_PART, DateTime(timezone=True))
    spent = _pieces("spent", SPENDS_PART, DateTime(timezone=True))
    whole_sum = (
        select(func.sum(case((whole.c.spent, days.c.points_spent), else_=days.c.revenue)))
        .where(
            days.c.zone == bindparam("zone", type_=String),
            days.c.bulk_award_id == whole.c.bulk_award_id,
            days.c.holdout == whole.c.holdout,
            days.c.day >= whole.c.since,
            days.c.day < whole.c.until,
        )
        .scalar_subquery()
    )
    sold_sum = (
        select(func.sum(sales.c.revenue))
        .where(
            sales.c.bulk_award_id == sold.c.bulk_award_id,
            sales.c.holdout == sold.c.holdout,
            sales.c.occurred_at >= sold.c.since,
            sales.c.occurred_at < sold.c.until,
        )
        .scalar_subquery()
    )
    spent_sum = (
        select(func.sum(spends.c.points))
        .where(
            spends.c.bulk_award_id == spent.c.bulk_award_id,
            spends.c.spent_at >= spent.c.since,
            spends.c.spent_at < spent.c.until,
        )
        .scalar_subquery()
    )
    return union_all(
        select(whole.c.tag, whole_sum),
        select(sold.c.tag, cast(sold_sum, Numeric)),
        select(spent.c.tag, cast(spent_sum, Numeric)),
    )


def _pieces(name: str, columns: Sequence[str], bounds: TypeEngine[Any]) -> Any:
    """The rows of one kind of piece, from the arrays `array_parameters` makes of them:
    their bounds (since, until) dates or instants."""
    types: dict[str, TypeEngine[Any]] = {
        "tag": String(),
        "bulk_award_id": String(),
        "holdout": Boolean(),
        "spent": Boolean(),
        "since": bounds,
        "until": bounds,
    }
    return unnest_rows(name, *(column(c, types[c]) for c in columns))


def _branches_on_sqlite(sums: _Sums) -> list[Any]:
    """One SELECT of (tag, amount) rows per piece."""
    days = table_of(RollupCampaignDayRow)
    sales, spends = table_of(RollupCampaignSaleRow), table_of(RollupCampaignSpendRow)
    branches = []
    for tag, bulk_award_id, holdout, since, until, spent in sums.whole_days:
        amount = days.c.points_spent if spent else days.c.revenue
        within = [
            days.c.zone == sums.asked.zone_name,
            days.c.bulk_award_id == bulk_award_id,
            days.c.holdout.is_(holdout),
            days.c.day >= since,
            days.c.day < until,
        ]
        branches.append(select(literal(tag), amount).where(*within))
    for tag, bulk_award_id, holdout, since, until in sums.sales_parts:
        within = [
            sales.c.bulk_award_id == bulk_award_id,
            sales.c.holdout.is_(holdout),
            sales.c.occurred_at >= since,
            sales.c.occurred_at < until,
        ]
        branches.append(select(literal(tag), sales.c.revenue).where(*within))
    for tag, bulk_award_id, since, until in sums.spends_parts:
        within = [
            spends.c.bulk_award_id == bulk_award_id,
            spends.c.spent_at >= since,
            spends.c.spent_at < until,
        ]
        branches.append(select(literal(tag), spends.c.points).where(*within))
    return branches
