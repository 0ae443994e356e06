"""What the rollups have yet to count. Every write that analytics count adds a row here in
its own transaction; the rollup worker counts a batch and deletes it in one transaction, so
nothing committed is missed or counted twice, whatever order transactions commit in."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from persistence import driver
from persistence.base import table_of
from persistence.models import AnalyticsInboxRow
from persistence.with_children import Children


class Counted(StrEnum):
    """What a row of the inbox refers to."""

    ENTRY = "ENTRY"  # a journal entry, by id
    SALE = "SALE"  # a member's sale (earn or checkout), by sales.id
    GUEST_SALE = "GUEST_SALE"  # a non-member's sale, by guest_sales.id
    ENROLMENT = "ENROLMENT"  # a customer, by id
    HOLDOUT = "HOLDOUT"  # a bulk award whose recipients and holdout are known, by id


INSERT_INBOX_ROWS = insert(table_of(AnalyticsInboxRow))
# The rows beside another row in one statement (persistence/with_children.py).
INBOX_ROWS = Children(table_of(AnalyticsInboxRow), None, ("kind", "ref"))
# Rows a unit of work adds at its commit, all kinds in one statement, kept in the session.
AT_COMMIT = "analytics_inbox_at_commit"


async def enqueue(session: AsyncSession, kind: Counted, refs: Iterable[object]) -> None:
    await write(session, _rows(kind, refs))


def enqueue_at_commit(session: AsyncSession, kind: Counted, refs: Iterable[object]) -> None:
    """Rows written with the others when the unit of work commits
    (persistence/unit_of_work.py), in the same transaction: one statement a commit, the
    outbox's row too on PostgreSQL (persistence/outbox.py)."""
    session.info.setdefault(AT_COMMIT, []).extend(_rows(kind, refs))


def take_enqueued(session: AsyncSession) -> list[dict[str, str]]:
    """The rows enqueued at commit, for the caller to write (and no longer enqueued)."""
    rows: list[dict[str, str]] = session.info.pop(AT_COMMIT, [])
    return rows


async def write(session: AsyncSession, rows: list[dict[str, str]]) -> None:
    await driver.execute_many(session, INSERT_INBOX_ROWS, rows)


def _rows(kind: Counted, refs: Iterable[object]) -> list[dict[str, str]]:
    return [{"kind": kind.value, "ref": str(ref)} for ref in refs]
