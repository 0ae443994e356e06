"""Campaign performance from the jobs and the campaign rollups: recipients and holdout as
the job counts them, revenue and spends of a window from its whole local days
(`rollup_campaign_days`) and, for the part days at its edges, from the sales and spends
themselves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Row, exists, func, literal, select, union_all

from domain.analytics import AnalyticsRange, CampaignFigures, holdout_scaled, local_day, midnight
from persistence.analytics.reading_context import ReadingContext
from persistence.base import table_of
from persistence.models import (
    BulkAwardRow,
    RollupCampaignDayRow,
    RollupCampaignSaleRow,
    RollupCampaignSpendRow,
)

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
    start, end = asked.start, asked.end
    sales = RollupCampaignSaleRow
    sold_in_range = exists().where(
        sales.bulk_award_id == BulkAwardRow.id,
        sales.holdout.is_(False),
        sales.occurred_at >= start,
        sales.occurred_at >= BulkAwardRow.created_at,
        sales.occurred_at < end,
    )
    jobs: list[Job] = list(
        (
            await context.execute(
                select(table_of(BulkAwardRow))
                .where(
                    BulkAwardRow.reverses_bulk_award_id.is_(None),
                    BulkAwardRow.created_at < end,
                    (BulkAwardRow.created_at >= start) | sold_in_range,
                )
                .order_by(BulkAwardRow.created_at, BulkAwardRow.id)
            )
        ).all()
    )
    if not jobs:
        return []
    taken_back = await _reversed(context, [job.id for job in jobs])
    sums = _Sums(context)
    for job in jobs:
        sums.ask_for(job)
    await sums.read()
    return [sums.figures(job, taken_back.get(job.id, 0), point_value) for job in jobs]


async def _reversed(context: ReadingContext, bulk_award_ids: Sequence[str]) -> dict[str, int]:
    """Customers whose award a reversal job took back, by the award reversed."""
    rows = await context.execute(
        select(BulkAwardRow.reverses_bulk_award_id, BulkAwardRow.awarded_customers).where(
            BulkAwardRow.reverses_bulk_award_id.in_(bulk_award_ids)
        )
    )
    return {str(job): int(customers) for job, customers in rows.all()}


def _windows(job: Job, asked: AnalyticsRange) -> dict[str, tuple[datetime, datetime]]:
    """The spans a campaign's revenue is read over: after the award (within the range),
    and the holdout's over the same span or, without a holdout, as long a span before."""
    after_start = max(job.created_at, asked.start)
    after = (after_start, asked.end)
    if job.holdout_customers:
        return {"after": after, "holdout": after}
    return {"after": after, "before": (after_start - (asked.end - after_start), after_start)}


class _Sums:
    """Every campaign's revenue windows and points spent, asked in two statements (one
    branch of a UNION ALL per whole-days or part-day piece), added up by tag."""

    def __init__(self, context: ReadingContext) -> None:
        self.context = context
        self.asked = context.asked
        self.postgresql = context.postgresql
        self.money: list[Any] = []
        self.points: list[Any] = []
        self.found: dict[str, Decimal] = {}

    def ask_for(self, job: Job) -> None:
        for name, span in _windows(job, self.asked).items():
            self._revenue(
                f"{job.id} {name}", job.id, name == "holdout", Window.of(self.asked, *span)
            )
        self._spent(f"{job.id} spent", job.id, Window.of(self.asked, None, self.asked.end))

    def _revenue(self, tag: str, bulk_award_id: str, holdout: bool, window: Window) -> None:
        days, sales = RollupCampaignDayRow, RollupCampaignSaleRow
        self.money.append(
            self._branch(tag, days.revenue, self._whole_days(window, bulk_award_id, holdout))
        )
        for start, end in window.parts:
            within = [
                sales.bulk_award_id == bulk_award_id,
                sales.holdout.is_(holdout),
                sales.occurred_at >= start,
                sales.occurred_at < end,
            ]
            self.money.append(self._branch(tag, sales.revenue, within))

    def _spent(self, tag: str, bulk_award_id: str, window: Window) -> None:
        days, spends = RollupCampaignDayRow, RollupCampaignSpendRow
        self.points.append(
            self._branch(tag, days.points_spent, self._whole_days(window, bulk_award_id, False))
        )
        for start, end in window.parts:
            within = [
                spends.bulk_award_id == bulk_award_id,
                spends.spent_at >= start,
                spends.spent_at < end,
            ]
            self.points.append(self._branch(tag, spends.points, within))

    def _branch(self, tag: str, column: Any, where: Sequence[ColumnElement[bool]]) -> Any:
        """PostgreSQL adds up (NUMERIC is exact); SQLite keeps money as text and would add
        floats, so there each amount comes back and is added here."""
        amount = func.sum(column) if self.postgresql else column
        return select(literal(tag).label("tag"), amount.label("amount")).where(*where)

    def _whole_days(
        self, window: Window, bulk_award_id: str, holdout: bool
    ) -> list[ColumnElement[bool]]:
        days = RollupCampaignDayRow
        first, last = window.whole
        since = [] if first is None else [days.day >= first]
        return [
            days.zone == self.asked.zone_name,
            days.bulk_award_id == bulk_award_id,
            days.holdout.is_(holdout),
            *since,
            days.day < last,
        ]

    async def read(self) -> None:
        for branches in (self.money, self.points):
            # SQLite takes at most 500 terms in one compound SELECT.
            for start in range(0, len(branches), BRANCHES_A_STATEMENT):
                part = branches[start : start + BRANCHES_A_STATEMENT]
                rows = await self.context.execute(union_all(*part))
                for tag, amount in rows.all():
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
