"""Redis channel names, built in one place."""

from __future__ import annotations


def balance_changes(prefix: str) -> str:
    return f"{prefix}:balance-changes"
