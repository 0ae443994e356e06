"""What a batch of the inbox adds to the rollups, worked out in memory (no database here).

Each event names when it happened; each kept time zone puts it in a local day, week and
month. A movement of a store counts in that store's scope and in the programme's ("*");
a movement of no store (bulk awards, expiry) in the programme's only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.analytics import PROGRAMME, Granularity, Metric, local_day, period_of, value_bin

Number = int | Decimal
# (zone, granularity, period)
Bucket = tuple[str, str, date]
# Additive figures are kept by day and by month; distinct and percentile ones per period.
ADDED_BY = (Granularity.DAY, Granularity.MONTH)
EVERY_PERIOD = (Granularity.DAY, Granularity.WEEK, Granularity.MONTH)
NO_STORE = ""


# Values seen are also kept by these, which no report is cut into (no kept percentiles).
QUARTER, YEAR = "QUARTER", "YEAR"


def quarter_of(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def value_buckets(day: date) -> Iterator[tuple[str, date]]:
    """(granularity, period start) of every row a value seen on this local day adds to."""
    for granularity in EVERY_PERIOD:
        yield granularity.value, period_of(day, granularity)
    yield QUARTER, quarter_of(day)
    yield YEAR, date(day.year, 1, 1)


# Each metric's values are also counted in bins (`value_bin`), in rollup_values under this
# metric name, by every granularity a range's values are added up from (not by week).
BINNED = {Metric.CHECKOUT_MS: "CHECKOUT_MS_BIN", Metric.REDEMPTION_DAYS: "REDEMPTION_BIN"}
BINNED_BY = frozenset((Granularity.DAY.value, Granularity.MONTH.value, QUARTER, YEAR))


def scopes_of(store_id: str | None) -> tuple[str, ...]:
    return (PROGRAMME,) if store_id is None else (store_id, PROGRAMME)


@dataclass
class Zones:
    """The time zones the rollups keep."""

    names: tuple[str, ...]
    infos: dict[str, ZoneInfo] = field(init=False)

    def __post_init__(self) -> None:
        self.infos = {name: ZoneInfo(name) for name in self.names}

    def buckets(self, instant: datetime) -> Iterator[Bucket]:
        """The day and month (in each zone) an additive figure of this instant adds to."""
        for name, day in self.days(instant):
            for granularity in ADDED_BY:
                yield name, granularity.value, period_of(day, granularity)

    def days(self, instant: datetime) -> Iterator[tuple[str, date]]:
        for name, info in self.infos.items():
            yield name, local_day(instant, info)


def _counter() -> defaultdict[str, Number]:
    return defaultdict(int)


@dataclass
class Tally:
    """Deltas of one batch, by rollup table and key."""

    zones: Zones
    totals: defaultdict[tuple[object, ...], defaultdict[str, Number]] = field(
        default_factory=lambda: defaultdict(_counter)
    )
    staff: defaultdict[tuple[object, ...], defaultdict[str, Number]] = field(
        default_factory=lambda: defaultdict(_counter)
    )
    rewards: defaultdict[tuple[object, ...], defaultdict[str, Number]] = field(
        default_factory=lambda: defaultdict(_counter)
    )
    values: defaultdict[tuple[object, ...], defaultdict[str, Number]] = field(
        default_factory=lambda: defaultdict(_counter)
    )
    lives: defaultdict[tuple[object, ...], defaultdict[str, Number]] = field(
        default_factory=lambda: defaultdict(_counter)
    )
    # (zone, scope, customer, local day) a customer had a sale
    active_days: set[tuple[str, str, str, date]] = field(default_factory=set)
    campaign_spends: dict[tuple[str, int], tuple[datetime, int]] = field(default_factory=dict)

    def add(self, instant: datetime, store_id: str | None, **figures: Number) -> None:
        """Additive figures of a movement in its store (and the programme)."""
        for bucket in self.zones.buckets(instant):
            for scope in scopes_of(store_id):
                counter = self.totals[(*bucket, scope)]
                for name, amount in figures.items():
                    counter[name] += amount

    def add_programme(self, instant: datetime, **figures: Number) -> None:
        self.add(instant, None, **figures)

    def add_staff(
        self, instant: datetime, staff_id: str | None, store_id: str | None, **figures: Number
    ) -> None:
        if staff_id is None:
            return
        for bucket in self.zones.buckets(instant):
            counter = self.staff[(*bucket, staff_id, store_id or NO_STORE)]
            for name, amount in figures.items():
                counter[name] += amount

    def add_redemption(
        self, instant: datetime, store_id: str | None, reward_id: str | None, points: int
    ) -> None:
        for bucket in self.zones.buckets(instant):
            for scope in scopes_of(store_id):
                for reward in {reward_id or NO_STORE, PROGRAMME}:
                    counter = self.rewards[(*bucket, scope, reward)]
                    counter["redemptions"] += 1
                    counter["points"] += points

    def add_value(
        self, instant: datetime, store_id: str | None, metric: Metric, key: str, value: Decimal
    ) -> None:
        """A value seen once, for the percentiles of every period it is in, and in its
        quarter and year (a long range adds up fewer rows); and its bin."""
        for zone, day in self.zones.days(instant):
            for granularity, period in value_buckets(day):
                for scope in scopes_of(store_id):
                    bucket = (zone, granularity, period, scope)
                    self.values[(*bucket, metric.value, key, value)]["count"] += 1
                    if granularity in BINNED_BY:
                        binned = (*bucket, BINNED[metric], key, value_bin(value))
                        self.values[binned]["count"] += 1

    def add_active(self, instant: datetime, store_id: str, customer_id: str) -> None:
        for zone, day in self.zones.days(instant):
            for scope in scopes_of(store_id):
                self.active_days.add((zone, scope, customer_id, day))

    def add_life(self, customer_id: str, **figures: Number) -> None:
        counter = self.lives[(customer_id,)]
        for name, amount in figures.items():
            counter[name] += amount
