"""What a caller asks for, validated and normalised before any I/O."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal

from domain.customers import Identifiers
from domain.errors import InvalidInput
from domain.ledger import Movement
from domain.points import SaleLine

MAX_IDEMPOTENCY_KEY = 200
MAX_REFERENCE = 100


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

    @property
    def movement(self) -> Movement:
        return Movement(
            self.store_id, self.terminal_id, self.sale_id, self.idempotency_key, self.occurred_at
        )

    def fingerprint(self) -> str:
        request = asdict(self)
        del request["occurred_at"]
        return fingerprint("earnPoints", request)


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

    def __post_init__(self) -> None:
        if (self.points is None) == (self.reward_id is None):
            raise InvalidInput("give exactly one of rewardId and points", ("input",))
        if self.points is not None and self.points <= 0:
            raise InvalidInput("points to redeem must be positive", ("input", "points"))

    @property
    def movement(self) -> Movement:
        return Movement(
            self.store_id, self.terminal_id, self.sale_id, self.idempotency_key, self.occurred_at
        )

    def fingerprint(self) -> str:
        request = asdict(self)
        del request["occurred_at"]
        return fingerprint("redeemPoints", request)


@dataclass(frozen=True)
class PreviewEarn:
    customer_id: str | None
    store_id: str
    lines: tuple[SaleLine, ...]
