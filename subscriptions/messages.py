"""What travels between processes about a balance change: plain, versioned, JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime

from domain.events import BalanceChanged
from subscriptions.channels import customer_topic, store_topic


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
        if self.store_id is None:
            return (customer_topic(self.customer_id),)
        return (customer_topic(self.customer_id), store_topic(self.store_id))

    def to_json(self) -> str:
        body = asdict(self)
        body["occurred_at"] = self.occurred_at.isoformat()
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> BalanceMessage:
        body = json.loads(text)
        body["occurred_at"] = datetime.fromisoformat(body["occurred_at"])
        return cls(**body)
