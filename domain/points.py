"""The points feature: what a till or a manager asks for, and what a sale leaves on record.

Every movement of points is asked for under an idempotency key, in a store.
Who asks comes from the caller's token and is not part of the request, so a retry
from another till is the same request. When it happened is the till's time when
the till states it (part of the request then), else the server's clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from domain.errors import InvalidInput
from domain.idempotency import request_fingerprint
from domain.ledger import Actor, Movement, PostedEntry
from domain.rules import Contribution, EarnCalculation, LinePoints
from domain.sales import SaleLine, sale_total

MAX_ADJUSTMENT = 1_000_000
MAX_REASON = 200


@dataclass(frozen=True, kw_only=True)
class MovementCommand:
    """What every request to move points names."""

    operation: ClassVar[str]
    idempotency_key: str
    store_id: str
    occurred_at: datetime
    actor: Actor | None = None
    # What the till stated as occurred_at (None: the server's clock gave it).
    till_time: datetime | None = None
    recorded_at: datetime | None = None

    def fingerprint(self) -> str:
        return request_fingerprint(self.operation, self)

    def movement_at_till(
        self, terminal_id: str | None, sale_id: str | None = None, reason: str | None = None
    ) -> Movement:
        """Where, when and by whom this request moves points."""
        return Movement(
            self.store_id,
            terminal_id,
            sale_id,
            self.idempotency_key,
            self.occurred_at,
            self.actor,
            reason,
            self.recorded_at,
        )


@dataclass(frozen=True, kw_only=True)
class TillCommand(MovementCommand):
    """A customer's movement at a till, with the till's own references."""

    customer_id: str
    terminal_id: str | None = None
    sale_id: str | None = None

    @property
    def movement(self) -> Movement:
        return self.movement_at_till(self.terminal_id, self.sale_id)


@dataclass(frozen=True, kw_only=True)
class TillSale(TillCommand):
    """A sale rung up at a till: it earns on its lines."""

    lines: tuple[SaleLine, ...]


@dataclass(frozen=True, kw_only=True)
class EarnPoints(TillSale):
    operation = "earnPoints"


@dataclass(frozen=True, kw_only=True)
class RedeemPoints(TillCommand):
    """Spend points: a catalog reward, or a number of points as money off."""

    operation = "redeemPoints"
    points: int | None
    reward_id: str | None

    def __post_init__(self) -> None:
        if (self.points is None) == (self.reward_id is None):
            raise InvalidInput("give exactly one of rewardId and points", ("input",))
        if self.points is not None and self.points <= 0:
            raise InvalidInput("points to redeem must be positive", ("input", "points"))


@dataclass(frozen=True, kw_only=True)
class Checkout(TillSale):
    """A completed sale, once: points spent on it (a reward or a number of points) and
    points earned by it, in one transaction under one idempotency key."""

    operation = "checkout"
    reward_id: str | None = None
    points: int | None = None
    # When the till began ringing the sale up, for its processing time.
    started_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.reward_id is not None and self.points is not None:
            raise InvalidInput("spend a reward or a number of points, not both", ("input",))
        if self.points is not None and self.points <= 0:
            raise InvalidInput("points to spend must be positive", ("input", "points"))
        if self.started_at is not None and self.started_at > self.occurred_at:
            raise InvalidInput("startedAt is after the sale happened", ("input", "startedAt"))


@dataclass(frozen=True, kw_only=True)
class AdjustPoints(MovementCommand):
    """A manager's manual correction: always with a reason."""

    operation = "adjustPoints"
    customer_id: str
    points: int
    reason: str

    def __post_init__(self) -> None:
        if self.points == 0 or abs(self.points) > MAX_ADJUSTMENT:
            raise InvalidInput(
                f"points must be non-zero and at most {MAX_ADJUSTMENT} either way",
                ("input", "points"),
            )
        if not self.reason.strip() or len(self.reason) > MAX_REASON:
            raise InvalidInput(
                f"an adjustment needs a reason of 1 to {MAX_REASON} characters",
                ("input", "reason"),
            )

    @property
    def movement(self) -> Movement:
        return self.movement_at_till(None, reason=self.reason)


@dataclass(frozen=True, kw_only=True)
class RefundSale(MovementCommand):
    """Return a sale (the transaction that earned on it) in full, or some units of lines."""

    operation = "refundSale"
    transaction_id: int
    terminal_id: str | None
    quantities: tuple[tuple[int, int], ...]
    reason: str | None

    @property
    def movement(self) -> Movement:
        return self.movement_at_till(self.terminal_id, reason=self.reason)


@dataclass(frozen=True)
class PreviewEarn:
    customer_id: str | None
    store_id: str
    lines: tuple[SaleLine, ...]
    at: datetime


@dataclass(frozen=True)
class RecordedSale:
    """A sale to keep with the entry that earned on it: the sale as asked for, and how it
    earned. Its points are what the rules gave (before owed points were paid off)."""

    sale: TillSale
    earned: PostedEntry
    calculation: EarnCalculation
    discount: Decimal = Decimal(0)
    redeemed: PostedEntry | None = None

    @property
    def points(self) -> int:
        return self.calculation.points

    @property
    def points_redeemed(self) -> int:
        return 0 if self.redeemed is None else -self.redeemed.entry.points


@dataclass(frozen=True)
class SaleBreakdown:
    """Why a sale earned what it did: its lines as they earned and each rule version's part,
    as recorded (or, for a preview, as earning would record them: no transaction yet)."""

    earn_entry_id: int | None
    total: Decimal
    discount: Decimal
    points_redeemed: int
    points: int
    lines: tuple[LinePoints, ...]
    contributions: tuple[Contribution, ...]
    refunded_quantities: Mapping[int, int] = field(default_factory=dict)
    refund_entry_ids: tuple[int, ...] = ()

    @classmethod
    def of_preview(cls, calculation: EarnCalculation) -> SaleBreakdown:
        total = sale_total(line.line for line in calculation.lines)
        return cls(
            None,
            total,
            Decimal(0),
            0,
            calculation.points,
            calculation.lines,
            calculation.contributions,
        )

    @property
    def exact_points(self) -> Decimal:
        return sum((part.points for part in self.contributions), Decimal(0))
