"""Customers and the identifiers a till finds them by."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime

from domain.accounts import Account
from domain.errors import FieldPath, InvalidInput

MAX_IDENTIFIER_LENGTH = 120
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CARD_SEPARATORS = re.compile(r"[\s-]+")


@dataclass(frozen=True)
class Identifiers:
    """The ways to find a customer, each normalised; every one is unique."""

    external_id: str | None = None
    email: str | None = None
    phone: str | None = None
    card_number: str | None = None

    def given(self) -> dict[str, str]:
        return {f.name: value for f in fields(self) if (value := getattr(self, f.name))}


@dataclass(frozen=True)
class EnrollCustomer:
    name: str | None
    identifiers: Identifiers
    enrolled_at: datetime
    # Who enrolled them (the token's staff id) and where (its store, when it names exactly
    # one); None when not known, as for an import.
    enrolled_by_staff: str | None = None
    enrolled_store_id: str | None = None


@dataclass(frozen=True)
class Customer:
    id: str
    name: str | None
    identifiers: Identifiers
    account: Account
    enrolled_at: datetime
    enrolled_by_staff: str | None = None
    enrolled_store_id: str | None = None


def _bounded(raw: str, field_path: FieldPath, what: str) -> str:
    value = raw.strip()
    if not value or len(value) > MAX_IDENTIFIER_LENGTH:
        raise InvalidInput(f"{what} must be 1 to {MAX_IDENTIFIER_LENGTH} characters", field_path)
    return value


def normalise_email(raw: str, field_path: FieldPath) -> str:
    """Emails compare case-insensitively, so they are kept in lower case."""
    email = _bounded(raw, field_path, "email").lower()
    if not EMAIL_PATTERN.match(email):
        raise InvalidInput(f"{raw.strip()[:60]!r} is not an email address", field_path)
    return email


def normalise_card_number(raw: str, field_path: FieldPath) -> str:
    """Card numbers are typed with spaces or dashes, scanned without: keep them without."""
    return CARD_SEPARATORS.sub("", _bounded(raw, field_path, "cardNumber")).upper()


def normalise_external_id(raw: str, field_path: FieldPath) -> str:
    return _bounded(raw, field_path, "externalId")


def normalise_name(raw: str | None, field_path: FieldPath) -> str | None:
    if raw is None or not raw.strip():
        return None
    return _bounded(raw, field_path, "name")


def require_one_identifier(identifiers: Identifiers, field_path: FieldPath) -> None:
    if not identifiers.given():
        raise InvalidInput("give at least one of externalId, email, phone, cardNumber", field_path)
