"""The books from the command line: `loyalty verify-journal` (every customer's chain of
entries checked) and `loyalty reconcile` (the books checked against themselves), both
exiting 1 on any finding; `loyalty gl-export` and `loyalty journal-export` (the files of
/exports). All read-only."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from api.downloads import Refusal
from api.ledger.exports import days_of, format_of, gl_csv, journal_lines
from api.services import reconciliation_bounds
from api.settings import Settings
from domain.gl_export import GlFormat
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
    register_exports(commands)


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
            return await reconciliation(session, datetime.now(UTC), reconciliation_bounds(settings))
    finally:
        await database.dispose()


def gl_export(settings: Settings, arguments: argparse.Namespace) -> int:
    try:
        days = days_of({"from": arguments.from_, "until": arguments.until})
        kind = format_of(arguments.format)
    except Refusal as refusal:
        sys.stderr.write(f"loyalty gl-export: {refusal.message}\n")
        return 2
    body = asyncio.run(_with_database(settings, lambda db: gl_csv(db, settings, days, kind)))
    _write(arguments.output, body)
    return 0


def journal_export(settings: Settings, arguments: argparse.Namespace) -> int:
    try:
        days = days_of({"from": arguments.from_, "until": arguments.until})
    except Refusal as refusal:
        sys.stderr.write(f"loyalty journal-export: {refusal.message}\n")
        return 2
    try:
        with contextlib.ExitStack() as stack:
            out: TextIO = sys.stdout
            if arguments.output:
                out = stack.enter_context(Path(arguments.output).open("w", encoding="utf-8"))
            asyncio.run(_journal_to(settings, days, out))
    except KeyboardInterrupt:
        sys.stderr.write("Stopped; the file holds the entries written so far.\n")
        return 130
    return 0


async def _journal_to(settings: Settings, days: tuple[date, date], out: TextIO) -> None:
    database = Database(settings.database_url)
    try:
        with Progress(TextColumn("{task.description}"), console=Console(stderr=True)) as progress:
            task = progress.add_task("entries written: 0")
            written = 0
            async for chunk in journal_lines(database, settings, days):
                out.write(chunk)
                written += chunk.count("\n")
                progress.update(task, description=f"entries written: {written:,}")
    finally:
        await database.dispose()


async def _with_database(settings: Settings, work: Callable[[Database], Awaitable[str]]) -> str:
    database = Database(settings.database_url)
    try:
        return await work(database)
    finally:
        await database.dispose()


def _write(output: str | None, body: str) -> None:
    if output:
        Path(output).write_text(body, encoding="utf-8")
    else:
        sys.stdout.write(body)


def register_exports(commands: Any) -> None:
    for name, run, described in (
        ("gl-export", gl_export, "the GL journals of a range of days as CSV"),
        ("journal-export", journal_export, "every journal entry of a range of days as JSON lines"),
    ):
        command = commands.add_parser(name, help=described)
        command.add_argument("--from", dest="from_", required=True, help="first day, YYYY-MM-DD")
        command.add_argument("--until", required=True, help="day after the last, YYYY-MM-DD")
        if name == "gl-export":
            command.add_argument(
                "--format", choices=[kind.value for kind in GlFormat], default="generic"
            )
        command.add_argument("--output", help="file to write (default: standard output)")
        command.set_defaults(run=run)
