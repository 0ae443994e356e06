"""Idempotency keys: a retry with the same key and the same request has its effect once.

A request is told from a retry by its fingerprint: a digest of what was asked,
leaving out when and by whom (a retry from another till is the same request).
Fingerprints are stored with the keys, so they must not change between
releases for the same request.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from domain.errors import FieldPath, InvalidInput

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

MAX_IDEMPOTENCY_KEY = 200
NOT_PART_OF_THE_REQUEST = ("occurred_at", "recorded_at", "actor")
# Fields requests gained later: left out while unset, so older requests keep their
# fingerprints.
LEFT_OUT_WHILE_UNSET = ("till_time", "started_at")


def idempotency_key(raw: str) -> str:
    key = raw.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidInput(
            f"idempotencyKey must be 1 to {MAX_IDEMPOTENCY_KEY} characters",
            ("input", "idempotencyKey"),
        )
    return key


def _canonical(value: object) -> object:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def request_fingerprint(operation: str, command: DataclassInstance) -> str:
    """The fingerprint of a command: every field but when and by whom."""
    request = {
        field.name: _plain(getattr(command, field.name))
        for field in fields(command)
        if field.name not in NOT_PART_OF_THE_REQUEST
        and not (field.name in LEFT_OUT_WHILE_UNSET and getattr(command, field.name) is None)
    }
    return fingerprint(operation, request)


def _plain(value: object) -> object:
    """Nested dataclasses as dicts, as `dataclasses.asdict` gives them, without its deep copy
    of every value (most of an earn's fingerprint time)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def fingerprint(operation: str, request: dict[str, object]) -> str:
    """A digest of what was asked, so a retry can be told from a different request."""
    body = json.dumps([operation, _canonical(request)], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class StoredOutcome:
    """What an idempotency key produced the first time: an entry, or a refusal."""

    fingerprint: str
    entry_id: int | None
    refusal_code: str | None
    refusal_message: str | None
    refusal_field: FieldPath | None
