"""Customer-facing displays: what the screen at a till shows, set by the cashier's POS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from domain.customers import Customer
from domain.errors import InvalidInput
from domain.labels import optional_reference
from domain.sales import SaleLine


@dataclass(frozen=True)
class Display:
    terminal_id: str
    store_id: str
    customer_id: str | None
    cart_points: int
    cart_total: Decimal
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class Screen:
    """What a terminal's display shows: its state, and the customer on it, if one is."""

    display: Display
    customer: Customer | None = None


@dataclass(frozen=True)
class ShowOnDisplay:
    """Show a customer and what their cart will earn; an empty cart is fine."""

    terminal_id: str
    store_id: str
    customer_id: str
    lines: tuple[SaleLine, ...]
    at: datetime


@dataclass(frozen=True)
class ClearDisplay:
    terminal_id: str
    store_id: str
    at: datetime


def terminal(raw: str) -> str:
    terminal_id = optional_reference(raw, "terminalId")
    if terminal_id is None:
        raise InvalidInput("terminalId is required", ("input", "terminalId"))
    return terminal_id


def masked_name(name: str | None) -> str | None:
    """What a screen facing the shop may show: the first name and an initial."""
    if not name:
        return None
    first, *rest = name.split()
    return f"{first} {rest[-1][0]}." if rest else first
