"""When a request was received, and when the till says what it asks for happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from domain.errors import InvalidInput
from domain.points import MovementCommand

CommandT = TypeVar("CommandT", bound=MovementCommand)


@dataclass(frozen=True)
class Received:
    """When the server received a request, and how far a till's own clock is trusted: a
    sale may be dated back `window` (tills enrol and sell offline too), and ahead by `skew`."""

    at: datetime
    window: timedelta
    skew: timedelta

    def occurred_at_of(self, stated: datetime | None, field: str = "occurredAt") -> datetime:
        """When it happened: the till's time if it says, else now; refused outside the window."""
        if stated is None:
            return self.at
        when = stated.astimezone(UTC)
        if when > self.at + self.skew:
            raise InvalidInput(f"{field} is in the future", ("input", field))
        if when < self.at - self.window:
            days = self.window.days
            raise InvalidInput(f"{field} is more than {days} days ago", ("input", field))
        return when

    def dated(self, command: type[CommandT], stated: datetime | None, **asked: Any) -> CommandT:
        """A till's command, dated when the till says it happened."""
        occurred_at = self.occurred_at_of(stated)
        till_time = None if stated is None else occurred_at
        return command(occurred_at=occurred_at, till_time=till_time, recorded_at=self.at, **asked)
