"""Earning rules as data, and the one computation that turns a sale into points.

earnPoints, checkout, previewEarn and the terminal displays all call
`calculate`; nothing else computes points for a sale.

Stacking policy:
1. A rule applies to a sale when it is active, the sale's store is one of its
   stores (none named = every store), the sale's time falls in its window
   (start/end, days of week and hours, read in the rule's time zone) and the
   sale's total reaches its minimum spend.
2. Rate, per line: the most specific rate rule that applies wins, product (sku)
   over category over base; among rules equally specific, the highest rate.
   With no base-rate rule in force, the programme's configured base rate.
3. Multiplier, per line: the highest multiplier promotion that applies to the
   line (its category or sku, or every line when it names neither). Multipliers
   do not compound.
4. A line earns its amount x rate x multiplier, exactly (Decimal).
5. Bonuses: every flat bonus that applies adds its points; a bonus naming a
   category or sku needs a line of it in the sale.
6. Caps last: what each rule contributed to the sale is cut to its maximum per
   sale and to what is left of its maximum per customer per day.
7. The sale's exact total is rounded down to whole points once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.sales import SaleLine

ZERO = Decimal(0)
ONE = Decimal(1)


class RuleKind(StrEnum):
    BASE_RATE = "BASE_RATE"
    CATEGORY_RATE = "CATEGORY_RATE"
    PRODUCT_RATE = "PRODUCT_RATE"
    MULTIPLIER = "MULTIPLIER"
    FLAT_BONUS = "FLAT_BONUS"


RATE_KINDS = (RuleKind.PRODUCT_RATE, RuleKind.CATEGORY_RATE, RuleKind.BASE_RATE)


class ContributionKind(StrEnum):
    RATE = "RATE"
    MULTIPLIER = "MULTIPLIER"
    BONUS = "BONUS"
    CAP = "CAP"


def clock_text(value: time | None) -> str | None:
    """A time of day as a schedule keeps it: "17:30"."""
    return None if value is None else value.strftime("%H:%M")


@dataclass(frozen=True)
class Schedule:
    """When a rule is in force. Days are ISO (1 = Monday); hours are local to `timezone`;
    an `until` earlier than `from` runs past midnight and belongs to the day it started
    (a Friday 22:00-02:00 window covers Saturday 01:00, not Friday 01:00)."""

    starts_at: datetime | None = None
    ends_at: datetime | None = None
    days_of_week: frozenset[int] = frozenset()
    from_time: time | None = None
    until_time: time | None = None
    timezone: str = "UTC"

    def covers(self, at: datetime) -> bool:
        if self.starts_at is not None and at < self.starts_at:
            return False
        if self.ends_at is not None and at >= self.ends_at:
            return False
        local = at.astimezone(ZoneInfo(self.timezone))
        clock = local.time().replace(tzinfo=None)
        if not self._within_hours(clock):
            return False
        started_on = local.date() - timedelta(days=1 if self._after_midnight(clock) else 0)
        return not self.days_of_week or started_on.isoweekday() in self.days_of_week

    def _within_hours(self, clock: time) -> bool:
        start, until = self.from_time or time.min, self.until_time
        if until is None:
            return clock >= start
        if start <= until:
            return start <= clock < until
        return clock >= start or clock < until

    def _after_midnight(self, clock: time) -> bool:
        """In the part of a window past midnight, which belongs to the day before."""
        start, until = self.from_time or time.min, self.until_time
        return until is not None and until < start and clock < until

    def day_of(self, at: datetime) -> tuple[datetime, datetime]:
        """The local calendar day holding `at`, as a half-open range of instants."""
        zone = ZoneInfo(self.timezone)
        local = at.astimezone(zone)
        start = datetime.combine(local.date(), time.min, tzinfo=zone)
        end = datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=zone)
        return start, end


@dataclass(frozen=True)
class RuleRef:
    """One version of one rule, as recorded with the points it produced."""

    id: str
    version: int
    name: str


@dataclass(frozen=True)
class EarningRule:
    """`rate` is points per 1.00 for the rate kinds and the factor for a multiplier."""

    id: str
    version: int
    name: str
    kind: RuleKind
    rate: Decimal | None = None
    bonus_points: int | None = None
    category: str | None = None
    sku: str | None = None
    store_ids: frozenset[str] = frozenset()
    schedule: Schedule = field(default_factory=Schedule)
    min_spend: Decimal | None = None
    max_points_per_sale: int | None = None
    max_points_per_customer_per_day: int | None = None
    active: bool = True

    @property
    def ref(self) -> RuleRef:
        return RuleRef(self.id, self.version, self.name)

    def applies_to_sale(self, sale: Sale) -> bool:
        return (
            self.active
            and (not self.store_ids or sale.store_id in self.store_ids)
            and self.schedule.covers(sale.at)
            and (self.min_spend is None or sale.total >= self.min_spend)
        )

    def targets(self, line: SaleLine) -> bool:
        """Whether a line is one this rule names (a rule naming nothing names every line)."""
        if self.sku is not None and line.sku != self.sku:
            return False
        return self.category is None or line.category == self.category


@dataclass(frozen=True)
class Sale:
    """What the rules look at. `amounts` are what each line earns on: its amount, or less
    where points paid for part of it."""

    store_id: str
    at: datetime
    lines: tuple[SaleLine, ...]
    amounts: tuple[Decimal, ...]

    @classmethod
    def of(
        cls,
        store_id: str,
        at: datetime,
        lines: Sequence[SaleLine],
        amounts: Sequence[Decimal] | None = None,
    ) -> Sale:
        paid = tuple(amounts) if amounts is not None else tuple(line.amount for line in lines)
        return cls(store_id, at, tuple(lines), paid)

    @property
    def total(self) -> Decimal:
        return sum(self.amounts, ZERO)


@dataclass(frozen=True)
class Contribution:
    """Points one rule gave (or, for a cap, took back); `line_no` counts from 1."""

    kind: ContributionKind
    rule: RuleRef | None
    points: Decimal
    line_no: int | None = None


@dataclass(frozen=True)
class LinePoints:
    line_no: int
    line: SaleLine
    amount: Decimal
    rate: Decimal
    rate_rule: RuleRef | None
    multiplier: Decimal
    multiplier_rule: RuleRef | None

    @property
    def points(self) -> Decimal:
        return self.amount * self.rate * self.multiplier

    def contributions(self) -> tuple[Contribution, ...]:
        base = self.amount * self.rate
        rate = Contribution(ContributionKind.RATE, self.rate_rule, base, self.line_no)
        if self.multiplier_rule is None:
            return (rate,)
        extra = base * (self.multiplier - ONE)
        return rate, Contribution(
            ContributionKind.MULTIPLIER, self.multiplier_rule, extra, self.line_no
        )


@dataclass(frozen=True)
class EarnCalculation:
    lines: tuple[LinePoints, ...]
    bonuses: tuple[Contribution, ...]
    caps: tuple[Contribution, ...]

    @property
    def contributions(self) -> tuple[Contribution, ...]:
        per_line = tuple(part for line in self.lines for part in line.contributions())
        return per_line + self.bonuses + self.caps

    @property
    def exact(self) -> Decimal:
        return sum((part.points for part in self.contributions), ZERO)

    @property
    def points(self) -> int:
        return int(self.exact.to_integral_value(rounding=ROUND_FLOOR))

    @property
    def rules(self) -> tuple[RuleRef, ...]:
        """Every rule version that produced (or capped) these points, once each."""
        seen = {part.rule: None for part in self.contributions if part.rule is not None}
        return tuple(seen)


def rules_in_force(rules: Sequence[EarningRule], sale: Sale) -> tuple[EarningRule, ...]:
    return tuple(rule for rule in rules if rule.applies_to_sale(sale))


def capped_daily(rules: Sequence[EarningRule]) -> tuple[EarningRule, ...]:
    """Rules whose per-customer daily cap needs what they already gave today."""
    return tuple(rule for rule in rules if rule.max_points_per_customer_per_day is not None)


def calculate(
    rules: Sequence[EarningRule],
    sale: Sale,
    base_rate: Decimal,
    used_today: Mapping[str, Decimal] | None = None,
) -> EarnCalculation:
    """The points a sale earns under the rules in force (see the module's policy)."""
    in_force = rules_in_force(rules, sale)
    lines = tuple(
        _line_points(number, line, amount, in_force, base_rate)
        for number, (line, amount) in enumerate(zip(sale.lines, sale.amounts, strict=True), 1)
    )
    bonuses = tuple(
        Contribution(ContributionKind.BONUS, rule.ref, Decimal(rule.bonus_points or 0))
        for rule in in_force
        if rule.kind is RuleKind.FLAT_BONUS and any(rule.targets(line) for line in sale.lines)
    )
    uncapped = EarnCalculation(lines, bonuses, ())
    caps = _caps(in_force, uncapped.contributions, used_today or {})
    return EarnCalculation(lines, bonuses, caps)


def _line_points(
    number: int,
    line: SaleLine,
    amount: Decimal,
    in_force: Sequence[EarningRule],
    base_rate: Decimal,
) -> LinePoints:
    rate_rule = _best_rate(line, in_force)
    multipliers = [
        rule for rule in in_force if rule.kind is RuleKind.MULTIPLIER and rule.targets(line)
    ]
    multiplier = max(multipliers, key=lambda rule: (_rate(rule), rule.id), default=None)
    return LinePoints(
        line_no=number,
        line=line,
        amount=amount,
        rate=base_rate if rate_rule is None else _rate(rate_rule),
        rate_rule=None if rate_rule is None else rate_rule.ref,
        multiplier=ONE if multiplier is None else _rate(multiplier),
        multiplier_rule=None if multiplier is None else multiplier.ref,
    )


def _best_rate(line: SaleLine, in_force: Sequence[EarningRule]) -> EarningRule | None:
    for kind in RATE_KINDS:
        candidates = [rule for rule in in_force if rule.kind is kind and rule.targets(line)]
        if candidates:
            return max(candidates, key=lambda rule: (_rate(rule), rule.id))
    return None


def _rate(rule: EarningRule) -> Decimal:
    return rule.rate if rule.rate is not None else ZERO


def _caps(
    in_force: Sequence[EarningRule],
    contributions: Sequence[Contribution],
    used_today: Mapping[str, Decimal],
) -> tuple[Contribution, ...]:
    caps = []
    for rule in in_force:
        given = sum((c.points for c in contributions if c.rule == rule.ref), ZERO)
        allowed = _allowance(rule, used_today.get(rule.id, ZERO))
        if allowed is not None and given > allowed:
            caps.append(Contribution(ContributionKind.CAP, rule.ref, allowed - given))
    return tuple(caps)


def _allowance(rule: EarningRule, used_today: Decimal) -> Decimal | None:
    limits = []
    if rule.max_points_per_sale is not None:
        limits.append(Decimal(rule.max_points_per_sale))
    if rule.max_points_per_customer_per_day is not None:
        limits.append(max(ZERO, rule.max_points_per_customer_per_day - used_today))
    return min(limits) if limits else None
