"""`loyalty verify-journal`: every customer's chain of entries checked, read-only."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from api.settings import Settings
from domain.ledger import ChainFinding
from persistence.database import Database
from persistence.journal_chain import checked_batches, customers_to_check

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
