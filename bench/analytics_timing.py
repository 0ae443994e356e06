"""The analytics benchmark's queries: `rollup_report` in process, the dashboard's GraphQL
query through the real ASGI app, and the plain reference (the same range's totals from the
raw journal and sales), timed in turn so that the machine's noise falls on all three."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from api.app import create_app
from api.auth import Role, TokenIssuer
from api.settings import Settings
from domain.analytics import AnalyticsRange, Granularity
from persistence.analytics.reading import rollup_report
from persistence.database import Database

TARGET_MS = 200.0
POINT_VALUE = Decimal("0.01")
PERIOD = """start end sales salesWithRedemption checkouts redemptions pointsEarned
  pointsAwarded pointsRedeemed pointsExpired pointsReversed pointsRedeemedPerTransaction
  activeCustomers newCustomers retainedCustomers retentionRate outstandingPoints
  outstandingValue revenue guestSales guestRevenue checkoutTimeP50Ms checkoutTimeP95Ms
  redemptionMedianDays redemptionP90Days"""
# The query the dashboard page sends (api/static/dashboard.html): every field.
DASHBOARD = f"""query Dashboard($range: AnalyticsRange!) {{
  analytics(range: $range) {{
    totals {{ {PERIOD} }}
    periods {{ {PERIOD} }}
    checkoutTime {{ p50Ms p95Ms earlierP50Ms earlierP95Ms p50Reduction p95Reduction }}
    campaigns {{ campaignId bulkAwardId awardedAt recipients holdoutCustomers pointsAwarded
      cost pointsRedeemed revenueBefore revenueAfter holdoutRevenue incrementalRevenue roi }}
    staff {{ staffId storeId enrolments sales pointsIssued pointsRedeemed refunds adjustments }}
    redemptionVelocity {{ rewardId redemptions pointsRedeemed medianDaysToRedeem
      p90DaysToRedeem }}
    cohorts {{ month customers active rates }}
    lifetimeValue {{
      segments {{ segment customers sales revenue purchasesPerCustomer repeatRate averageSpend }}
      correlation memberSales memberAverageSpend guestSales guestRevenue guestAverageSpend
    }}
  }}
}}"""
RAW_KINDS = """SELECT kind, count(*), coalesce(sum(points), 0) FROM journal_entries
    WHERE occurred_at >= :start AND occurred_at < :end {store} GROUP BY kind"""
RAW_ACTIVE = """SELECT count(DISTINCT customer_id) FROM sales
    WHERE occurred_at >= :start AND occurred_at < :end {store}"""


@dataclass(frozen=True)
class Case:
    name: str  # month, quarter, two years
    start: datetime
    end: datetime
    granularity: Granularity
    store: str | None  # None: the whole programme, as an admin asks

    def asked(self) -> AnalyticsRange:
        stores = None if self.store is None else frozenset({self.store})
        return AnalyticsRange(self.start, self.end, self.granularity, "UTC", stores)

    def variables(self) -> dict[str, Any]:
        asked: dict[str, Any] = {
            "from": self.start.isoformat(),
            "until": self.end.isoformat(),
            "granularity": self.granularity.value,
            "timeZone": "UTC",
        }
        if self.store is not None:
            asked["storeIds"] = [self.store]
        return {"range": asked}


@dataclass
class Timed:
    case: Case
    periods: int = 0
    rollup: list[float] = field(default_factory=list)
    graphql: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    # (sales, points earned, points redeemed, active customers): rollups, raw
    figures: tuple[tuple[int, ...], tuple[int, ...]] | None = None


def months_before(end: datetime, months: int) -> datetime:
    index = end.year * 12 + end.month - 1 - months
    return end.replace(year=index // 12, month=index % 12 + 1, day=1)


def cases(end: datetime, store: str) -> list[Case]:
    """The last whole month, quarter and two years before `end` (a first of a month)."""
    spans = (("month", 1), ("quarter", 3), ("two years", 24))
    return [
        Case(name, months_before(end, months), end, granularity, scope)
        for name, months in spans
        for granularity in (Granularity.DAY, Granularity.MONTH)
        for scope in (store, None)
    ]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    position = fraction * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


async def timed(call: Callable[[Case], Awaitable[object]], case: Case) -> float:
    """Milliseconds one call took."""
    started = time.perf_counter()
    await call(case)
    return (time.perf_counter() - started) * 1000


class Runner:
    """The three ways of asking, against one database."""

    def __init__(self, database: Database, client: httpx.AsyncClient, tokens: dict[str, str]):
        self.database = database
        self.client = client
        self.tokens = tokens

    async def rollup(self, case: Case) -> Any:
        async with self.database.reading() as session:
            return await rollup_report(session, case.asked(), POINT_VALUE)

    async def graphql(self, case: Case) -> Any:
        token = self.tokens["admin" if case.store is None else "manager"]
        answer = await self.client.post(
            "/graphql",
            json={"query": DASHBOARD, "variables": case.variables()},
            headers={"Authorization": f"Bearer {token}"},
        )
        body = answer.json()
        if answer.status_code != 200 or body.get("errors"):
            raise SystemExit(f"the GraphQL query failed: {answer.status_code} {body}")
        return body

    async def raw(self, case: Case) -> tuple[int, ...]:
        store = "" if case.store is None else "AND store_id = :store"
        values = {"start": case.start, "end": case.end, "store": case.store}
        async with self.database.reading() as session:
            kinds = {
                str(kind): (int(count), int(points))
                for kind, count, points in (
                    await session.execute(text(RAW_KINDS.format(store=store)), values)
                ).all()
            }
            active = await session.scalar(text(RAW_ACTIVE.format(store=store)), values)
        earned, redeemed = kinds.get("EARN", (0, 0)), kinds.get("REDEEM", (0, 0))
        return (earned[0], earned[1], -redeemed[1], int(active or 0))


def rollup_figures(report: Any) -> tuple[int, ...]:
    totals = report.totals
    flow = totals.flow
    return (flow.sales, flow.points_earned, flow.points_redeemed, totals.active_customers)


async def time_queries(
    runner: Runner, chosen: list[Case], repeat: int, advance: Callable[[], None]
) -> list[Timed]:
    """Each case: one warm-up, then `repeat` times each way, in turn; the raw reference is
    measured once per range and scope (granularity changes nothing there)."""
    results: list[Timed] = []
    raw_of: dict[tuple[datetime, datetime, str | None], Timed] = {}
    raw_figures: dict[tuple[datetime, datetime, str | None], tuple[int, ...]] = {}
    for case in chosen:
        result = Timed(case)
        key = (case.start, case.end, case.store)
        measure_raw = key not in raw_of
        report = await runner.rollup(case)
        await runner.graphql(case)
        if measure_raw:
            raw_figures[key] = await runner.raw(case)
        raw = raw_figures[key]
        result.periods = len(report.periods)
        result.figures = (rollup_figures(report), raw)
        for _ in range(repeat):
            result.rollup.append(await timed(runner.rollup, case))
            result.graphql.append(await timed(runner.graphql, case))
            if measure_raw:
                result.raw.append(await timed(runner.raw, case))
            advance()
        if measure_raw:
            raw_of[key] = result
        else:
            result.raw = raw_of[key].raw
        results.append(result)
    return results


def client_for(settings: Settings, app: Any) -> tuple[httpx.AsyncClient, dict[str, str]]:
    issuer = TokenIssuer(settings.auth_secret.get_secret_value())
    now = datetime.now().astimezone()
    tokens = {
        "admin": issuer.mint(
            role=Role.ADMIN,
            staff_id="admin-1",
            stores=(),
            terminal_id=None,
            now=now,
            ttl=timedelta(hours=4),
        ),
        "manager": issuer.mint(
            role=Role.MANAGER,
            staff_id="manager-S01",
            stores=("S01",),
            terminal_id=None,
            now=now,
            ttl=timedelta(hours=4),
        ),
    }
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=600)
    return client, tokens


def app_for(database_url: str) -> tuple[Settings, Any]:
    settings = Settings(database_url=database_url, run_jobs=False, rate_limit="100000/minute")
    return settings, create_app(settings)


def mark(p95: float) -> str:
    return "[green]met[/]" if p95 < TARGET_MS else "[red]MISSED[/]"


def print_figures(console: Console, results: list[Timed]) -> None:
    table = Table(title=f"Analytics queries (ms; target p95 < {TARGET_MS:.0f} ms)")
    for name in (
        "range",
        "by",
        "scope",
        "periods",
        "rollup p50",
        "rollup p95",
        "GraphQL p50",
        "GraphQL p95",
        "raw p50",
        "raw p95",
        "rollup/raw p50",
        "same totals",
        "target",
    ):
        table.add_column(name, justify="left" if name in ("range", "by", "scope") else "right")
    for result in results:
        case = result.case
        rollup_p50, rollup_p95 = percentile(result.rollup, 0.5), percentile(result.rollup, 0.95)
        graphql_p95 = percentile(result.graphql, 0.95)
        raw_p50 = percentile(result.raw, 0.5)
        same = result.figures is not None and result.figures[0] == result.figures[1]
        table.add_row(
            case.name,
            case.granularity.value,
            "all (admin)" if case.store is None else f"{case.store} (manager)",
            str(result.periods),
            f"{rollup_p50:.1f}",
            f"{rollup_p95:.1f}",
            f"{percentile(result.graphql, 0.5):.1f}",
            f"{graphql_p95:.1f}",
            f"{raw_p50:.1f}",
            f"{percentile(result.raw, 0.95):.1f}",
            f"{rollup_p50 / raw_p50:.3f}",
            "yes" if same else f"[red]NO[/] {result.figures}",
            mark(max(rollup_p95, graphql_p95)),
        )
    console.print(table)
    console.print(
        "rollup: rollup_report in process, a session per call; GraphQL: the dashboard's full "
        "query through the ASGI app (admin token for all stores, a manager's of S01 for one "
        "store); raw: the range's entries by kind and its distinct customers with a sale, "
        "from journal_entries and sales (the plain reference). same totals: sales, points "
        "earned, points redeemed and active customers agree between rollups and raw. "
    )
