"""Closing the books: once a period is closed, nothing may be recorded with a time before
its end, so what was exported, balanced and disclosed for it never changes. Closing moves
forward only; reopening (an audited correction, with a reason) moves the end back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from domain.errors import InvalidInput
from domain.ledger import Actor, JournalEntry

MAX_REASON = 200


class PeriodAction(StrEnum):
    CLOSE = "CLOSE"
    REOPEN = "REOPEN"


@dataclass(frozen=True)
class ChangePeriod:
    """Close the books before `moment`, or reopen them from it."""

    action: PeriodAction
    moment: datetime
    reason: str
    actor: Actor
    at: datetime


@dataclass(frozen=True)
class PeriodChange:
    """One close or reopen as kept: the books were closed until `previous`, now `closed_until`."""

    action: PeriodAction
    closed_until: datetime
    previous: datetime | None
    reason: str
    actor: Actor
    at: datetime


class PeriodClosed(InvalidInput):
    """A movement dated before the end of a closed period."""


def changed(closed_until: datetime | None, cmd: ChangePeriod) -> PeriodChange:
    """The change `cmd` makes to books closed until `closed_until` (None: nothing closed)."""
    reason = cmd.reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput(
            f"a reason of 1 to {MAX_REASON} characters is needed", ("input", "reason")
        )
    moment = cmd.moment.astimezone(UTC)
    if cmd.action is PeriodAction.CLOSE:
        _refuse_close(closed_until, moment, cmd.at)
    else:
        _refuse_reopen(closed_until, moment)
    return PeriodChange(cmd.action, moment, closed_until, reason, cmd.actor, cmd.at)


def _refuse_close(closed_until: datetime | None, until: datetime, now: datetime) -> None:
    if until > now:
        raise InvalidInput("a period can only be closed up to now", ("input", "until"))
    if closed_until is not None and until <= closed_until:
        raise InvalidInput(
            f"the books are closed until {_shown(closed_until)} already; closing never moves "
            "back (reopenPeriod does)",
            ("input", "until"),
        )


def _refuse_reopen(closed_until: datetime | None, moment: datetime) -> None:
    if closed_until is None or moment >= closed_until:
        shown = (
            "nothing is closed" if closed_until is None else f"closed until {_shown(closed_until)}"
        )
        raise InvalidInput(f"the books are open from then already ({shown})", ("input", "from"))


def refuse_closed(closed_until: datetime | None, entries: Iterable[JournalEntry]) -> None:
    """No entry may be dated in a closed period."""
    if closed_until is None:
        return
    for entry in entries:
        if entry.movement.occurred_at < closed_until:
            raise PeriodClosed(
                f"the period is closed: nothing may be recorded before {_shown(closed_until)}",
                ("input", "occurredAt"),
            )


def _shown(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()
