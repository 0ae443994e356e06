"""`loyalty verify-journal` (every customer's chain of entries checked) and `loyalty
reconcile` (the books checked against themselves); both read-only, both exit 1 on any
finding."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from api.settings import Settings
from domain.ledger import ChainFinding
from domain.reconciliation import Reconciliation
from persistence.database import Database
from persistence.journal_chain import checked_batches, customers_to_check
from persistence.queries.reconciliation import reconciliation

# Findings printed one by one; beyond that only counted.
SHOWN_FINDINGS = 50


def verify_journal(settings: Settings, _arguments: argparse.Namespace) -> int:
    console = Console(stderr=True)
    try:
        findings, entries = asyncio.run(_verify(settings, console))
    except KeyboardInterrupt:
        sys.stdout.write("Stopped; nothing was changed. Run it again to check the journal.\n")
        return 130
    for finding in findings[:SHOWN_FINDINGS]:
        sys.stdout.write(_line(finding) + "\n")
    if findings:
        sys.stdout.write(f"{len(findings)} finding(s) in {entries:,} entries.\n")
        return 1
    sys.stdout.write(f"The journal holds: {entries:,} entries, every chain intact.\n")
    return 0


async def _verify(settings: Settings, console: Console) -> tuple[list[ChainFinding], int]:
    database = Database(settings.database_url)
    findings: list[ChainFinding] = []
    entries = 0
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    try:
        with Progress(*columns, TimeRemainingColumn(), console=console) as progress:
            task = progress.add_task("customers' chains", total=await customers_to_check(database))
            async for batch in checked_batches(database):
                findings += batch.findings
                entries += batch.entries
                progress.advance(task, batch.customers)
    finally:
        await database.dispose()
    return findings, entries


def _line(finding: ChainFinding) -> str:
    where = "last hash" if finding.entry_id is None else f"entry {finding.entry_id}"
    return f"customer {finding.customer_id}, {where}: {finding.problem}"


def register(commands: Any) -> None:
    commands.add_parser(
        "verify-journal",
        help="check that no journal entry was altered, inserted or removed (exit 1 if one was)",
    ).set_defaults(run=verify_journal)
    commands.add_parser(
        "reconcile",
        help="check the books: entries balanced, balances, lots, liability, outbox (exit 1 if not)",
    ).set_defaults(run=reconcile)


def reconcile(settings: Settings, _arguments: argparse.Namespace) -> int:
    books = asyncio.run(_reconcile(settings))
    table = Table(title=f"Reconciliation at {books.at.isoformat()}")
    for column in ("check", "holds", "difference (points)", "detail"):
        table.add_column(column)
    for check in books.checks:
        holds = "[green]yes[/]" if check.holds else "[red]NO[/]"
        table.add_row(check.name, holds, f"{check.difference:,}", check.detail or "")
    Console().print(table)
    return 0 if books.balanced else 1


async def _reconcile(settings: Settings) -> Reconciliation:
    database = Database(settings.database_url)
    try:
        async with database.reading() as session:
            return await reconciliation(
                session, datetime.now(UTC), settings.outbox_lag_bound_seconds
            )
    finally:
        await database.dispose()
