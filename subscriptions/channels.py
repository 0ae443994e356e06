"""Redis channel names and hub topics, built in one place."""

from __future__ import annotations

from domain.events import BalanceChanged, Event, TilesChanged


def balance_changes(prefix: str) -> str:
    return f"{prefix}:balance-changes"


def customer_topic(customer_id: str) -> str:
    """Every balance change of one customer."""
    return f"customer:{customer_id}"


def store_topic(store_id: str) -> str:
    """Every points transaction made in one store."""
    return f"store:{store_id}"


def terminal_topic(terminal_id: str) -> str:
    """A terminal's customer display: what the POS shows there, and its earns and redeems."""
    return f"terminal:{terminal_id}"


def tiles_topic(store_id: str) -> str:
    """Today's figures of one store, as the rollups count them."""
    return f"tiles:{store_id}"


def topics_of(event: Event) -> tuple[str, ...]:
    """Every topic an event is delivered to."""
    if isinstance(event, TilesChanged):
        return (tiles_topic(event.store_id),)
    if not isinstance(event, BalanceChanged):
        return (terminal_topic(event.terminal_id),)
    entry = event.posted.entry
    topics = [customer_topic(entry.customer_id)]
    if entry.movement.store_id is not None:
        topics.append(store_topic(entry.movement.store_id))
    if entry.movement.terminal_id is not None:
        topics.append(terminal_topic(entry.movement.terminal_id))
    return tuple(topics)
