"""The journal's chains checked, a batch of customers at a time, each batch in one snapshot
(their last hashes and their entries as of the same moment)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ledger import ChainFinding, JournalLine, PostedEntry, chain_findings
from persistence.database import Database, one_snapshot
from persistence.journal import posted_of
from persistence.models import CustomerRow, JournalEntryRow, JournalLineRow

CUSTOMERS_A_BATCH = 500


@dataclass(frozen=True)
class CheckedBatch:
    customers: int
    entries: int
    findings: list[ChainFinding]


async def customers_to_check(database: Database) -> int:
    async with database.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(CustomerRow)) or 0)


async def checked_batches(database: Database) -> AsyncIterator[CheckedBatch]:
    """Every customer's chain, in customer id order."""
    after = ""
    while True:
        async with database.reading() as session:
            await one_snapshot(session)
            heads = await _heads_after(session, after)
            if not heads:
                return
            entries = await _entries_of(session, list(heads))
        findings = [
            finding
            for customer_id, head in heads.items()
            for finding in chain_findings(customer_id, head, entries[customer_id])
        ]
        yield CheckedBatch(len(heads), sum(map(len, entries.values())), findings)
        after = next(reversed(heads))


async def _heads_after(session: AsyncSession, after: str) -> dict[str, str]:
    query = (
        select(CustomerRow.id, CustomerRow.journal_head)
        .where(CustomerRow.id > after)
        .order_by(CustomerRow.id)
        .limit(CUSTOMERS_A_BATCH)
    )
    return {row.id: row.journal_head for row in await session.execute(query)}


async def _entries_of(
    session: AsyncSession, customer_ids: list[str]
) -> defaultdict[str, list[PostedEntry]]:
    """The customers' entries in id order, each with its lines (two statements)."""
    lines: defaultdict[int, list[JournalLine]] = defaultdict(list)
    found = await session.execute(
        select(JournalLineRow.entry_id, JournalLineRow.account, JournalLineRow.amount)
        .join(JournalEntryRow, JournalEntryRow.id == JournalLineRow.entry_id)
        .where(JournalEntryRow.customer_id.in_(customer_ids))
        .order_by(JournalLineRow.id)
    )
    for entry_id, account, amount in found:
        lines[entry_id].append(JournalLine(account, amount))
    rows = await session.scalars(
        select(JournalEntryRow)
        .where(JournalEntryRow.customer_id.in_(customer_ids))
        .order_by(JournalEntryRow.customer_id, JournalEntryRow.id)
    )
    entries: defaultdict[str, list[PostedEntry]] = defaultdict(list)
    for row in rows:
        entries[row.customer_id].append(posted_of(row, lines[row.id]))
    return entries
