"""Analytics: the programme's figures over a range of time, cut into periods in a time zone.

A range runs from one local midnight to another in its time zone and is cut into days,
weeks (from Monday) or months; the first and last periods are clipped to the range. "The
period before" a period is the whole period of the same kind just before it; for the
totals, it is the range of the same number of days just before. Every figure is defined
here once, on plain values, so the rollups and the raw rows answer alike (see
persistence/analytics/).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from functools import lru_cache
from itertools import accumulate
from operator import attrgetter
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import InvalidInput

PROGRAMME = "*"
MAX_RANGE_DAYS = 3 * 366 + 31
MIDNIGHTS_KEPT = 16_384  # local midnights kept worked out: a few zones' three years of days
SIGNIFICANT_DIGITS = 3
# Values seen are also counted in bins of two significant figures (a tenth as many rows),
# so a percentile of a long range first finds its bin, then its value among the bin's.
BIN_DIGITS = 2
SECONDS_PER_DAY = Decimal(86_400)


class Granularity(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


class Metric(StrEnum):
    """Values whose percentiles are asked for."""

    CHECKOUT_MS = "CHECKOUT_MS"
    # A redemption's age in days: the points-weighted mean age of the lots it spent.
    REDEMPTION_DAYS = "REDEMPTION_DAYS"


class Participation(StrEnum):
    REDEEMER = "REDEEMER"
    EARN_ONLY = "EARN_ONLY"
    INACTIVE = "INACTIVE"


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as unknown:
        raise InvalidInput(
            f"{name[:64]!r} is not an IANA time zone", ("range", "timeZone")
        ) from unknown


def local_day(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


@lru_cache(maxsize=MIDNIGHTS_KEPT)
def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of a local day, in UTC. Kept for the days asked most (a report of
    two years by day asks for 731, and dashboards ask the same days again); a zone's
    rules change only with the tz database, which a process reads once."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def period_of(day: date, granularity: Granularity) -> date:
    """The first day of the period a day is in."""
    if granularity is Granularity.WEEK:
        return day - timedelta(days=day.weekday())
    if granularity is Granularity.MONTH:
        return day.replace(day=1)
    return day


def next_period(start: date, granularity: Granularity) -> date:
    if granularity is Granularity.WEEK:
        return start + timedelta(days=7)
    if granularity is Granularity.MONTH:
        return _months_later(start, 1)
    return start + timedelta(days=1)


def previous_period(start: date, granularity: Granularity) -> date:
    if granularity is Granularity.WEEK:
        return start - timedelta(days=7)
    if granularity is Granularity.MONTH:
        return _months_later(start, -1)
    return start - timedelta(days=1)


def _months_later(start: date, months: int) -> date:
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Days:
    """Local days [first, end) of a time zone."""

    first: date
    end: date

    @property
    def count(self) -> int:
        return (self.end - self.first).days

    def before(self) -> Days:
        """The same number of days just before."""
        return Days(self.first - timedelta(days=self.count), self.first)

    def union(self, other: Days) -> Days:
        return Days(min(self.first, other.first), max(self.end, other.end))

    def whole_periods(self, granularity: Granularity) -> bool:
        """Whether these days are exactly one period of the kind."""
        if granularity is Granularity.DAY:  # most periods of a long report
            return (self.end - self.first).days == 1
        return period_of(self.first, granularity) == self.first and self.end == next_period(
            self.first, granularity
        )


@dataclass(frozen=True)
class Period:
    """One period of a range: its local days, and the whole period it is (part of)."""

    days: Days
    granularity: Granularity
    # Worked out once: a long report asks each of its periods several times (and
    # cached_property takes a lock on every read).
    start: date = field(init=False, compare=False, repr=False)  # of the whole period
    whole: bool = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", period_of(self.days.first, self.granularity))
        object.__setattr__(self, "whole", self.days.whole_periods(self.granularity))

    def before(self) -> Days:
        """The whole period just before it."""
        return self.previous().days

    def previous(self) -> Period:
        """The whole period just before it, as a period."""
        start = self.previous_start()
        return Period(Days(start, next_period(start, self.granularity)), self.granularity)

    def previous_start(self) -> date:
        """The first day of the whole period just before it."""
        return previous_period(self.start, self.granularity)


@dataclass(frozen=True)
class AnalyticsRange:
    """What a dashboard asks for. `store_ids` None: the whole programme (every store, and
    movements of no store: bulk awards, expiry); else those stores only."""

    start: datetime
    end: datetime
    granularity: Granularity
    zone_name: str
    store_ids: frozenset[str] | None
    compare_start: datetime | None = None
    compare_end: datetime | None = None

    def __post_init__(self) -> None:
        zone = zone_of(self.zone_name)
        for name, instant in (("from", self.start), ("until", self.end)):
            _refuse_unless_midnight(instant, zone, name)
        if self.end <= self.start:
            raise InvalidInput("until must be after from", ("range", "until"))
        if self.days.count > MAX_RANGE_DAYS:
            raise InvalidInput(f"a range spans at most {MAX_RANGE_DAYS} days", ("range",))
        if self.store_ids is not None and not self.store_ids:
            raise InvalidInput("storeIds, when given, names at least one store", ("range",))
        if (self.compare_start is None) != (self.compare_end is None):
            raise InvalidInput("give both compareFrom and compareUntil", ("range",))
        if self.compare_start is not None and self.compare_end is not None:
            _refuse_unless_midnight(self.compare_start, zone, "compareFrom")
            _refuse_unless_midnight(self.compare_end, zone, "compareUntil")
            if self.compare_end <= self.compare_start:
                raise InvalidInput("compareUntil must be after compareFrom", ("range",))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.zone_name)

    @property
    def days(self) -> Days:
        return Days(local_day(self.start, self.zone), local_day(self.end, self.zone))

    @property
    def comparison(self) -> Days:
        """The earlier range checkout times are compared with: as asked, else the range of
        the same length just before."""
        if self.compare_start is None or self.compare_end is None:
            return self.days.before()
        return Days(
            local_day(self.compare_start, self.zone), local_day(self.compare_end, self.zone)
        )

    @property
    def scopes(self) -> tuple[str, ...]:
        return (PROGRAMME,) if self.store_ids is None else tuple(sorted(self.store_ids))

    def periods(self) -> list[Period]:
        days, cut = self.days, []
        first = days.first
        while first < days.end:
            end = min(next_period(period_of(first, self.granularity), self.granularity), days.end)
            cut.append(Period(Days(first, end), self.granularity))
            first = end
        return cut

    def instant(self, day: date) -> datetime:
        return midnight(day, self.zone)


def _refuse_unless_midnight(instant: datetime, zone: ZoneInfo, name: str) -> None:
    if instant.tzinfo is None:
        raise InvalidInput(f"{name} needs an offset", ("range", name))
    if midnight(local_day(instant, zone), zone) != instant.astimezone(UTC):
        raise InvalidInput(
            f"{name} must be a midnight in the range's time zone (whole days are counted)",
            ("range", name),
        )


def significant(value: Decimal, digits: int = SIGNIFICANT_DIGITS) -> Decimal:
    """A value as it is kept for percentiles: to `digits` significant figures."""
    if not value:
        return Decimal(0)
    exponent = value.adjusted() - digits + 1
    return value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_EVEN).normalize()


def value_bin(value: Decimal) -> Decimal:
    """The bin a value (never negative) is counted in: the value cut down to `BIN_DIGITS`
    significant figures. The bin of 0 is 0; of 123 it is 120, holding [120, 130)."""
    if not value:
        return Decimal(0)
    exponent = value.adjusted() - BIN_DIGITS + 1
    return value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_FLOOR).normalize()


def bin_end(start: Decimal) -> Decimal:
    """The end (exclusive) of the bin that starts at `start`; the bin of 0 holds 0 alone."""
    if not start:
        return Decimal(0)
    return start + Decimal(1).scaleb(start.adjusted() - BIN_DIGITS + 1)


def percentile(counts: Iterable[tuple[Decimal, int]], fraction: Decimal) -> Decimal | None:
    """Continuous percentile (as PostgreSQL's percentile_cont) of values seen `count` times."""
    return _Ranked(counts).percentile(fraction)


PERCENTILE_FRACTIONS = (Decimal("0.5"), Decimal("0.9"), Decimal("0.95"))


def ranks_needed(total: int, fraction: Decimal) -> tuple[int, int]:
    """The two 0-based ranks a continuous percentile interpolates between."""
    below = int(fraction * (total - 1))
    return below, min(below + 1, total - 1)


class _Ranked:
    """Values seen `count` times, in order, with their cumulative counts: each percentile
    is a bisection, not a sort."""

    def __init__(self, counts: Iterable[tuple[Decimal, int]]) -> None:
        ordered = sorted((value, count) for value, count in counts if count > 0)
        self.values = [value for value, _ in ordered]
        self.seen = list(accumulate(count for _, count in ordered))
        self.total = self.seen[-1] if self.seen else 0

    @classmethod
    def of_cumulative(cls, rows: Iterable[tuple[Decimal, int]], total: int) -> _Ranked:
        """Some values with the count of values up to and including each: enough when they
        hold every rank a percentile needs (a database ranked them)."""
        ranked = cls(())
        ordered = sorted(rows)
        ranked.values = [value for value, _ in ordered]
        ranked.seen = [upto for _, upto in ordered]
        ranked.total = total
        return ranked

    def percentile(self, fraction: Decimal) -> Decimal | None:
        if not self.total:
            return None
        position = fraction * (self.total - 1)
        below, above = ranks_needed(self.total, fraction)
        lower, upper = self._at(below), self._at(above)
        return lower + (upper - lower) * (position - below)

    def _at(self, rank: int) -> Decimal:
        """The value of 0-based rank `rank`: the first whose cumulative count exceeds it."""
        return self.values[bisect_right(self.seen, rank)]


def age_in_days(spent: Iterable[tuple[int, datetime, datetime]]) -> Decimal | None:
    """A redemption's age: the points-weighted mean of (spent - earned), in days, never
    below 0 (a sale dated back may spend points recorded before it happened)."""
    weighted, points = Decimal(0), 0
    for taken, earned_at, spent_at in spent:
        seconds = max(Decimal(0), Decimal(str((spent_at - earned_at).total_seconds())))
        weighted += taken * seconds
        points += taken
    return None if not points else significant(weighted / points / SECONDS_PER_DAY)


def ratio(numerator: int | Decimal, denominator: int | Decimal) -> Decimal | None:
    return None if not denominator else Decimal(numerator) / Decimal(denominator)


@dataclass(frozen=True)
class Flow:
    """What adds up over time: each figure of a period is the sum of its days."""

    sales: int = 0
    sales_with_redemption: int = 0
    checkouts: int = 0
    points_earned: int = 0
    points_awarded: int = 0
    points_redeemed: int = 0
    points_expired: int = 0
    points_reversed: int = 0
    redemptions: int = 0
    revenue: Decimal = Decimal(0)
    guest_sales: int = 0
    guest_revenue: Decimal = Decimal(0)

    def __add__(self, other: Flow) -> Flow:
        return Flow(*(getattr(self, name) + getattr(other, name) for name in FLOW_FIELDS))

    @classmethod
    def total(cls, flows: Iterable[Flow]) -> Flow:
        """Flows added up field by field in one pass (not a new Flow per addition: a long
        report adds hundreds)."""
        rows = [_flow_values(flow) for flow in flows]
        if not rows:
            return cls()
        return cls(*(sum(column) for column in zip(*rows, strict=True)))


FLOW_FIELDS = tuple(f.name for f in fields(Flow))
_flow_values = attrgetter(*FLOW_FIELDS)


@dataclass(frozen=True)
class Percentiles:
    count: int = 0
    p50: Decimal | None = None
    p90: Decimal | None = None
    p95: Decimal | None = None

    @classmethod
    def of(cls, counts: Iterable[tuple[Decimal, int]]) -> Percentiles:
        return cls._of(_Ranked(counts))

    @classmethod
    def of_ranks(cls, rows: Iterable[tuple[Decimal, int]], total: int) -> Percentiles:
        """From the values at the ranks the percentiles need, each with the count of values
        up to and including it (`ranks_needed` of each fraction), of `total` seen."""
        return cls._of(_Ranked.of_cumulative(rows, total))

    @classmethod
    def _of(cls, ranked: _Ranked) -> Percentiles:
        p50, p90, p95 = (ranked.percentile(fraction) for fraction in PERCENTILE_FRACTIONS)
        return cls(ranked.total, p50, p90, p95)


@dataclass(frozen=True)
class PeriodFigures:
    start: datetime
    end: datetime
    flow: Flow
    active_customers: int
    previous_active: int
    retained_customers: int
    new_customers: int
    outstanding_points: int
    outstanding_value: Decimal
    checkout_time: Percentiles
    redemption_age: Percentiles

    @property
    def points_redeemed_per_transaction(self) -> Decimal | None:
        return ratio(self.flow.points_redeemed, self.flow.sales)

    @property
    def retention_rate(self) -> Decimal | None:
        return ratio(self.retained_customers, self.previous_active)


@dataclass(frozen=True)
class CampaignFigures:
    bulk_award_id: str
    campaign_id: str
    awarded_at: datetime
    recipients: int
    holdout_customers: int
    points_awarded: int
    cost: Decimal
    points_redeemed: int
    revenue_after: Decimal
    holdout_revenue: Decimal | None
    revenue_before: Decimal | None

    @property
    def incremental_revenue(self) -> Decimal:
        control = self.holdout_revenue if self.holdout_revenue is not None else self.revenue_before
        return self.revenue_after - (control or Decimal(0))

    @property
    def roi(self) -> Decimal | None:
        return ratio(self.incremental_revenue - self.cost, self.cost)


def holdout_scaled(revenue: Decimal, holdout: int, recipients: int) -> Decimal:
    """The holdout's revenue as if it were as many customers as the recipients."""
    return (revenue * recipients / holdout).quantize(Decimal("0.0001"))


@dataclass(frozen=True)
class StaffFigures:
    staff_id: str
    store_id: str | None
    enrolments: int = 0
    sales: int = 0
    points_issued: int = 0
    points_redeemed: int = 0
    refunds: int = 0
    adjustments: int = 0


@dataclass(frozen=True)
class RewardVelocity:
    reward_id: str | None
    redemptions: int
    points_redeemed: int
    age: Percentiles


@dataclass(frozen=True)
class Cohort:
    """Customers enrolled in a month, and how many of them had a sale k months later."""

    month: datetime
    customers: int
    active: tuple[int, ...]

    @property
    def rates(self) -> tuple[Decimal | None, ...]:
        return tuple(ratio(active, self.customers) for active in self.active)


@dataclass(frozen=True)
class Segment:
    """Customers by how they take part, over the programme's whole history."""

    participation: Participation
    customers: int = 0
    sales: int = 0
    revenue: Decimal = Decimal(0)
    repeaters: int = 0

    @property
    def purchases_per_customer(self) -> Decimal | None:
        return ratio(self.sales, self.customers)

    @property
    def repeat_rate(self) -> Decimal | None:
        return ratio(self.repeaters, self.customers)

    @property
    def average_spend(self) -> Decimal | None:
        spend = ratio(self.revenue, self.sales)
        return None if spend is None else spend.quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Moments:
    """Sums over customers of x (points earned and redeemed), y (sales) and their products:
    the correlation of points activity with purchase frequency, kept exactly."""

    n: int = 0
    x: int = 0
    y: int = 0
    xx: int = 0
    yy: int = 0
    xy: int = 0

    def correlation(self) -> Decimal | None:
        n = Decimal(self.n)
        spread_x = n * self.xx - Decimal(self.x) ** 2
        spread_y = n * self.yy - Decimal(self.y) ** 2
        if spread_x <= 0 or spread_y <= 0:
            return None
        return (n * self.xy - Decimal(self.x) * self.y) / (spread_x * spread_y).sqrt()


@dataclass(frozen=True)
class LifetimeValue:
    segments: tuple[Segment, ...]
    moments: Moments
    member_sales: int
    member_revenue: Decimal
    guest_sales: int
    guest_revenue: Decimal

    @property
    def member_average_spend(self) -> Decimal | None:
        return _spend(self.member_revenue, self.member_sales)

    @property
    def guest_average_spend(self) -> Decimal | None:
        return _spend(self.guest_revenue, self.guest_sales)


def _spend(revenue: Decimal, sales: int) -> Decimal | None:
    spend = ratio(revenue, sales)
    return None if spend is None else spend.quantize(Decimal("0.01"))


@dataclass(frozen=True)
class CustomerLife:
    """One customer's history as the lifetime-value figures count it."""

    sales: int = 0
    revenue: Decimal = Decimal(0)
    points_earned: int = 0
    points_redeemed: int = 0

    @property
    def participation(self) -> Participation:
        if self.points_redeemed:
            return Participation.REDEEMER
        return Participation.EARN_ONLY if self.sales else Participation.INACTIVE

    @property
    def activity(self) -> int:
        return self.points_earned + self.points_redeemed


@dataclass(frozen=True)
class CheckoutComparison:
    now: Percentiles
    earlier: Percentiles

    @staticmethod
    def reduction(now: Decimal | None, earlier: Decimal | None) -> Decimal | None:
        """(earlier - now) / earlier: 0.25 means checkouts take a quarter less time."""
        if now is None or earlier is None:
            return None
        return ratio(earlier - now, earlier)


@dataclass(frozen=True)
class AnalyticsReport:
    totals: PeriodFigures
    periods: tuple[PeriodFigures, ...]
    campaigns: tuple[CampaignFigures, ...]
    staff: tuple[StaffFigures, ...]
    velocity: tuple[RewardVelocity, ...]
    cohorts: tuple[Cohort, ...]
    lifetime: LifetimeValue
    checkout: CheckoutComparison
