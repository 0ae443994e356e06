"""What a caller asks for, validated and normalised before any I/O."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from domain.customers import Identifiers
from domain.errors import InvalidInput
from domain.ledger import Actor, Movement
from domain.points import SaleLine

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

MAX_IDEMPOTENCY_KEY = 200
MAX_REFERENCE = 100
MAX_ADJUSTMENT = 1_000_000
MAX_REASON = 200


def idempotency_key(raw: str) -> str:
    key = raw.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidInput(
            f"idempotencyKey must be 1 to {MAX_IDEMPOTENCY_KEY} characters",
            ("input", "idempotencyKey"),
        )
    return key


def optional_reference(raw: str | None, field: str) -> str | None:
    """A terminal or sale reference: free text from the till, bounded, blank means none."""
    if raw is None or not raw.strip():
        return None
    if len(raw.strip()) > MAX_REFERENCE:
        raise InvalidInput(f"{field} must be at most {MAX_REFERENCE} characters", ("input", field))
    return raw.strip()


def _canonical(value: object) -> object:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def request_fingerprint(operation: str, command: DataclassInstance) -> str:
    """What was asked, leaving out when and by whom: a retry from another till is the same
    request."""
    request = {
        name: value
        for name, value in asdict(command).items()
        if name not in ("occurred_at", "actor")
    }
    return fingerprint(operation, request)


def fingerprint(operation: str, request: dict[str, object]) -> str:
    """A digest of what was asked, so a retry can be told from a different request."""
    body = json.dumps([operation, _canonical(request)], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class CreateStore:
    id: str
    name: str


@dataclass(frozen=True)
class EnrollCustomer:
    name: str | None
    identifiers: Identifiers
    enrolled_at: datetime


@dataclass(frozen=True)
class EarnPoints:
    customer_id: str
    idempotency_key: str
    store_id: str
    terminal_id: str | None
    sale_id: str | None
    lines: tuple[SaleLine, ...]
    occurred_at: datetime
    actor: Actor | None = None

    @property
    def movement(self) -> Movement:
        return till_movement(self)

    def fingerprint(self) -> str:
        return request_fingerprint("earnPoints", self)


@dataclass(frozen=True)
class RedeemPoints:
    customer_id: str
    idempotency_key: str
    store_id: str
    terminal_id: str | None
    sale_id: str | None
    points: int | None
    reward_id: str | None
    occurred_at: datetime
    actor: Actor | None = None

    def __post_init__(self) -> None:
        if (self.points is None) == (self.reward_id is None):
            raise InvalidInput("give exactly one of rewardId and points", ("input",))
        if self.points is not None and self.points <= 0:
            raise InvalidInput("points to redeem must be positive", ("input", "points"))

    @property
    def movement(self) -> Movement:
        return till_movement(self)

    def fingerprint(self) -> str:
        return request_fingerprint("redeemPoints", self)


@dataclass(frozen=True)
class AdjustPoints:
    """A manager's manual correction: always with a reason."""

    customer_id: str
    idempotency_key: str
    store_id: str
    points: int
    reason: str
    occurred_at: datetime
    actor: Actor | None = None

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
        return Movement(
            self.store_id,
            None,
            None,
            self.idempotency_key,
            self.occurred_at,
            self.actor,
            self.reason,
        )

    def fingerprint(self) -> str:
        return request_fingerprint("adjustPoints", self)


def till_movement(cmd: EarnPoints | RedeemPoints | Checkout) -> Movement:
    """Where a sale's movement happened and who made it."""
    return Movement(
        cmd.store_id, cmd.terminal_id, cmd.sale_id, cmd.idempotency_key, cmd.occurred_at, cmd.actor
    )


@dataclass(frozen=True)
class PreviewEarn:
    customer_id: str | None
    store_id: str
    lines: tuple[SaleLine, ...]
    at: datetime


@dataclass(frozen=True)
class Checkout:
    """A completed sale, once: points spent on it (a reward or a number of points) and
    points earned by it, in one transaction under one idempotency key."""

    customer_id: str
    idempotency_key: str
    store_id: str
    terminal_id: str | None
    sale_id: str | None
    lines: tuple[SaleLine, ...]
    reward_id: str | None
    points: int | None
    occurred_at: datetime
    actor: Actor | None = None

    def __post_init__(self) -> None:
        if self.reward_id is not None and self.points is not None:
            raise InvalidInput("spend a reward or a number of points, not both", ("input",))
        if self.points is not None and self.points <= 0:
            raise InvalidInput("points to spend must be positive", ("input", "points"))

    @property
    def movement(self) -> Movement:
        return till_movement(self)

    def fingerprint(self) -> str:
        return request_fingerprint("checkout", self)


@dataclass(frozen=True)
class RefundSale:
    """Return a sale (the transaction that earned on it) in full, or some units of lines."""

    transaction_id: int
    idempotency_key: str
    store_id: str
    terminal_id: str | None
    quantities: tuple[tuple[int, int], ...]
    reason: str | None
    occurred_at: datetime
    actor: Actor | None = None

    @property
    def movement(self) -> Movement:
        return Movement(
            self.store_id,
            self.terminal_id,
            None,
            self.idempotency_key,
            self.occurred_at,
            self.actor,
            self.reason,
        )

    def fingerprint(self) -> str:
        return request_fingerprint("refundSale", self)
