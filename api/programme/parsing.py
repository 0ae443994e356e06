"""How administrators' inputs are read: optional decimals and labels, and aware times."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from domain.errors import FieldPath, InvalidInput
from domain.labels import require_label
from domain.money import parse_decimal


def optional_decimal(raw: str | None, name: str) -> Decimal | None:
    return None if raw is None else parse_decimal(raw, ("input", name), what=name)


def optional_label(raw: str | None, path: FieldPath, what: str) -> str | None:
    return None if raw is None or not raw.strip() else require_label(raw, path, what=what)


def aware(value: datetime | None, name: str) -> datetime | None:
    """A time given with its UTC offset, as the programme keeps times: in UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise InvalidInput(f"{name} needs a UTC offset", ("input", name))
    return value.astimezone(UTC)
