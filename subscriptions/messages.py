"""What travels between processes about a balance change: plain, versioned, JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime

from domain.events import BalanceChanged, DisplayChanged, Event
from subscriptions.channels import customer_topic, store_topic, terminal_topic


@dataclass(frozen=True)
class BalanceMessage:
    customer_id: str
    balance: int
    balance_version: int
    delta: int
    entry_id: int
    kind: str
    store_id: str | None
    terminal_id: str | None
    sale_id: str | None
    idempotency_key: str | None
    occurred_at: datetime

    @classmethod
    def of(cls, event: BalanceChanged) -> BalanceMessage:
        entry, movement = event.posted.entry, event.posted.entry.movement
        return cls(
            customer_id=event.customer_id,
            balance=event.balance,
            balance_version=event.balance_version,
            delta=event.delta,
            entry_id=event.posted.id,
            kind=entry.kind.value,
            store_id=movement.store_id,
            terminal_id=movement.terminal_id,
            sale_id=movement.sale_id,
            idempotency_key=movement.idempotency_key,
            occurred_at=movement.occurred_at,
        )

    def topics(self) -> tuple[str, ...]:
        topics = [customer_topic(self.customer_id)]
        if self.store_id is not None:
            topics.append(store_topic(self.store_id))
        if self.terminal_id is not None:
            topics.append(terminal_topic(self.terminal_id))
        return tuple(topics)

    def to_json(self) -> str:
        # vars(), not asdict(): asdict deep-copies every field, and a bulk award sends
        # thousands of these a second.
        body = {"type": "balance", **vars(self), "occurred_at": self.occurred_at.isoformat()}
        return json.dumps(body, separators=(",", ":"))


@dataclass(frozen=True)
class DisplayMessage:
    """A terminal's display changed: its subscribers read it afresh."""

    terminal_id: str
    version: int

    def topics(self) -> tuple[str, ...]:
        return (terminal_topic(self.terminal_id),)

    def to_json(self) -> str:
        return json.dumps({"type": "display", **asdict(self)}, separators=(",", ":"))


Message = BalanceMessage | DisplayMessage


def message_of(event: Event) -> Message:
    if isinstance(event, DisplayChanged):
        return DisplayMessage(event.terminal_id, event.version)
    return BalanceMessage.of(event)


def message_from_json(text: str | bytes) -> Message:
    body = json.loads(text)
    kind = body.pop("type")
    if kind == "display":
        return DisplayMessage(**body)
    if kind != "balance":
        raise ValueError(f"unknown message type {kind!r}")
    body["occurred_at"] = datetime.fromisoformat(body["occurred_at"])
    return BalanceMessage(**body)
