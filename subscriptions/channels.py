"""Redis channel names and hub topics, built in one place."""

from __future__ import annotations


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
