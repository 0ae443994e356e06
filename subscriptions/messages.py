"""Events as they travel between processes: plain JSON, one encoding for each event.

A balance change travels as the posted journal entry itself, lines and all, so
every process rebuilds the same value the committing process had.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from domain.events import BalanceChanged, DisplayChanged, Event
from domain.ledger import (
    Actor,
    JournalEntry,
    JournalLine,
    Movement,
    PostedEntry,
    TransactionKind,
)


def to_json(event: Event) -> str:
    if isinstance(event, DisplayChanged):
        body: dict[str, Any] = {"type": "display", **asdict(event)}
    else:
        body = {"type": "balance", **_entry_body(event.posted)}
    return json.dumps(body, separators=(",", ":"))


def _entry_body(posted: PostedEntry) -> dict[str, Any]:
    # vars(), not asdict(): asdict deep-copies every field, and a bulk award sends
    # thousands of these a second.
    entry, movement = posted.entry, posted.entry.movement
    return {
        **vars(entry),
        "id": posted.id,
        "lines": [[line.account, line.amount] for line in entry.lines],
        "movement": {
            **vars(movement),
            "occurred_at": movement.occurred_at.isoformat(),
            "actor": None if movement.actor is None else vars(movement.actor),
        },
    }


def from_json(text: str | bytes) -> Event:
    body = json.loads(text)
    kind = body.pop("type")
    if kind == "display":
        return DisplayChanged(**body)
    if kind != "balance":
        raise ValueError(f"unknown message type {kind!r}")
    return BalanceChanged(_posted(body))


def _posted(body: dict[str, Any]) -> PostedEntry:
    entry_id, lines, movement = body.pop("id"), body.pop("lines"), body.pop("movement")
    actor = movement.pop("actor")
    movement["occurred_at"] = datetime.fromisoformat(movement["occurred_at"])
    body["kind"] = TransactionKind(body["kind"])
    entry = JournalEntry(
        **body,
        lines=tuple(JournalLine(account, amount) for account, amount in lines),
        movement=Movement(**movement, actor=None if actor is None else Actor(**actor)),
    )
    return PostedEntry(entry_id, entry)
