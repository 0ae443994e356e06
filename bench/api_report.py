"""The figures of bench/api_bench.py: the medians of the alternating runs, their ratio to
the plain reference against the issue's targets, and the fan-out's; printed as tables."""

from __future__ import annotations

import os
import platform
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from api_load import Run
from fanout import Tally, percentile
from rich.console import Console
from rich.markup import escape
from rich.table import Table

# Project throughput over the reference's, at least (issue 13).
TARGET_RATIOS = {"earn": 0.50, "balance": 0.35, "trivial": 0.25}
TITLES = {
    "earn": "earnPoints, 2 lines",
    "balance": "balance by id",
    "trivial": "{ __typename }",
}
FAN_OUT_P99_MS = 100.0
FAN_OUT_KIB_EACH = 10.0


@dataclass(frozen=True)
class Figures:
    """The median of each figure over a side's runs of one request."""

    per_second: float
    p50_ms: float
    p99_ms: float
    cpu_ms_each: float
    requests: int  # all runs together
    failed: int
    sample: str
    client_share: float | None  # the most of one core the load generator used in a run

    @classmethod
    def of(cls, runs: list[Run]) -> Figures:
        shares = [share for share in (run.client_share for run in runs) if share is not None]
        return cls(
            per_second=statistics.median(run.per_second for run in runs),
            p50_ms=statistics.median(run.p50_ms for run in runs),
            p99_ms=statistics.median(run.p99_ms for run in runs),
            cpu_ms_each=statistics.median(run.cpu_ms_each for run in runs),
            requests=sum(run.requests for run in runs),
            failed=sum(run.failed for run in runs),
            sample=next((run.sample for run in runs if run.sample), ""),
            client_share=max(shares, default=None),
        )


@dataclass(frozen=True)
class FanOut:
    subscribers: int
    per_connection: int
    changes: int
    tally: Tally
    memory: tuple[int, int]  # the server's RSS before and after opening them
    open_seconds: float
    cpu_seconds: float  # the server's, from each earn sent to its last delivery, added up

    @property
    def p50_ms(self) -> float:
        return percentile(self.tally.latencies, 0.5) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.tally.latencies, 0.99) * 1000

    @property
    def cpu_ms_each(self) -> float:
        return self.cpu_seconds / self.changes * 1000 if self.changes else float("nan")

    @property
    def kib_each(self) -> float:
        before, after = self.memory
        return (after - before) / max(self.subscribers, 1) / 1024


def verdict(met: bool) -> str:
    return "[green]met[/]" if met else "[red]missed[/]"


def ratio_met(kind: str, ratio: float) -> bool:
    return ratio >= TARGET_RATIOS[kind]


def requests_table(results: dict[str, dict[str, Figures]]) -> Table:
    table = Table(title="Requests: the project against the plain reference (medians)")
    table.add_column("request")
    for side in ("project", "reference"):
        table.add_column(f"{side}\nreq/s", justify="right")
        for figure in ("p50\nms", "p99\nms", "CPU\nms"):
            table.add_column(figure, justify="right")
    for heading in ("ratio", "target", ""):
        table.add_column(heading, justify="right")
    for kind, sides in results.items():
        project, reference = sides["project"], sides["reference"]
        ratio = project.per_second / reference.per_second if reference.per_second else 0.0
        table.add_row(
            TITLES[kind],
            *cells(project),
            *cells(reference),
            f"{ratio:.2f}",
            f">= {TARGET_RATIOS[kind]:.2f}",
            verdict(ratio_met(kind, ratio)),
        )
    return table


def cells(figures: Figures) -> list[str]:
    return [
        f"{figures.per_second:,.0f}",
        f"{figures.p50_ms:.1f}",
        f"{figures.p99_ms:.1f}",
        f"{figures.cpu_ms_each:.2f}",
    ]


def fan_out_table(fan: FanOut) -> Table:
    table = Table(title="Fan-out: each change to every subscriber of one customer")
    for heading in ("subscriptions", "changes", "delivered", "lost /\ndup.", "p50\nms"):
        table.add_column(heading, justify="right")
    for heading in ("p99\nms", "", "KiB per\nsubscription", "", "CPU ms\na change"):
        table.add_column(heading, justify="right")
    expected = fan.subscribers * fan.changes
    table.add_row(
        f"{fan.subscribers:,}\n({fan.per_connection} a connection)",
        str(fan.changes),
        f"{fan.tally.delivered:,} of {expected:,}",
        f"{max(expected - fan.tally.delivered, fan.tally.lost)} / {fan.tally.duplicates}",
        f"{fan.p50_ms:.1f}",
        f"{fan.p99_ms:.1f} (<= {FAN_OUT_P99_MS:.0f})",
        verdict(fan.p99_ms <= FAN_OUT_P99_MS),
        f"{fan.kib_each:.1f} (<= {FAN_OUT_KIB_EACH:.0f})",
        verdict(fan.kib_each <= FAN_OUT_KIB_EACH),
        f"{fan.cpu_ms_each:,.0f}",
    )
    return table


def machine() -> str:
    model = next(
        (
            line.partition(":")[2].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB, {platform.system()}"


def print_report(
    console: Console, results: dict[str, dict[str, Figures]], fan: FanOut | None, notes: list[str]
) -> None:
    console.print(requests_table(results))
    if fan is not None:
        console.print(fan_out_table(fan))
    for kind, sides in results.items():
        for side, figures in sides.items():
            if figures.failed:
                console.print(
                    f"[red]{side} {TITLES[kind]}: {figures.failed:,} of {figures.requests:,} "
                    f"answers failed[/], e.g. {escape(figures.sample)}",
                    highlight=False,
                )
    console.print(f"measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}")
    for note in notes:
        console.print(note, highlight=False)  # markup kept: a note may be in red


TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d [\d:,.]+ ")
LEVEL = re.compile(r"^(WARNING|ERROR|CRITICAL)\b")


def log_findings(text: str) -> Counter[str]:
    """What a server's log holds, counted: each traceback by its exception's name, each
    other warning or error line by its message."""
    found: Counter[str] = Counter()
    in_traceback = False
    for line in text.splitlines():
        if line.startswith("Traceback (most recent call last)"):
            in_traceback = True
        elif in_traceback and line and not line[0].isspace():
            found[f"traceback: {line.partition(':')[0]}"] += 1
            in_traceback = False
        elif not in_traceback:
            message = TIMESTAMP.sub("", line)
            if LEVEL.match(message) and "Exception in ASGI application" not in message:
                found[" ".join(message.split())] += 1
    return found
