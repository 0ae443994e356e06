"""Reconciliation: the books checked against themselves. Each check names the two sides it
compared and how far apart they are, in points (0 when it holds)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, Decimal


@dataclass(frozen=True)
class Check:
    name: str
    holds: bool
    difference: int
    detail: str | None = None


@dataclass(frozen=True)
class Reconciliation:
    at: datetime
    checks: tuple[Check, ...]

    @property
    def balanced(self) -> bool:
        return all(check.holds for check in self.checks)


def sides(name: str, left: tuple[str, int], right: tuple[str, int]) -> Check:
    """Two totals that must be equal."""
    (left_name, left_points), (right_name, right_points) = left, right
    difference = abs(left_points - right_points)
    detail = f"{left_name} {left_points:,} against {right_name} {right_points:,}"
    return Check(name, difference == 0, difference, detail)


def rows_apart(name: str, compared: str, apart: int, difference: int, first: object) -> Check:
    """Rows (entries, customers) each of which must agree: how many do not, by how much in
    all, and the first of them to look at."""
    if apart == 0:
        return Check(name, True, 0, f"every {compared} agrees")
    return Check(
        name,
        False,
        difference,
        f"{apart:,} {compared}(s) apart by {difference:,} points in all; first: {first}",
    )


def outbox_published(unpublished: int, oldest: datetime | None, bound_seconds: int) -> Check:
    """No balance change left unpublished longer than the bound (difference: how many are)."""
    name = "outbox-published"
    if unpublished == 0:
        return Check(name, True, 0, f"no change unpublished for more than {bound_seconds} s")
    return Check(
        name,
        False,
        unpublished,
        f"{unpublished:,} change(s) unpublished for more than {bound_seconds} s; "
        f"the oldest from {oldest}",
    )


def export_matches(journals: int, unbalanced: int, apart: Decimal, point_value: Decimal) -> Check:
    """The GL export against the valued movements it comes from: every journal balanced, and
    each account's total off by no more than the cents its journals were rounded to
    (`apart`: what goes beyond that, in money; the difference, in points at `point_value`)."""
    name = "gl-export-matches-movements"
    difference = unbalanced + int((apart / point_value).to_integral_value(ROUND_CEILING))
    detail = (
        f"{journals:,} journal(s) of last month and this one; {unbalanced:,} unbalanced; "
        f"accounts beyond their rounding by {apart} in all"
    )
    return Check(name, difference == 0, difference, detail)
