"""The analytics dashboard in headless Chromium: its charts and cards draw the numbers the
API answers, its CSV button downloads the table, its live tiles follow a sale; an admin's
token adds the liability roll-forward, a manager's a note in its place.

As the display page's test: a real server process, Debian's chromium over the DevTools
protocol. The page is read through what it exposes for this: `window.dashboardCharts`
(the Chart.js charts) and the `data-kpi` / `data-tile` attributes of its cards.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from websockets.asyncio.client import connect

from api.auth import Role
from api.scalars import amount
from api.settings import Settings
from persistence.migrate import upgrade_to_head
from tests.browser.dashboard_seed import AWARDED, ZONE, Programme, days_in, local_days, seed
from tests.browser.devtools import Tab
from tests.browser.test_display_page import browser, page_socket
from tests.conftest import bearer, mint
from tests.integration.test_processes import post, server, wait_until
from tests.operations import CREATE_STORE

SCREENSHOT = Path("/tmp/dashboard.png")
ROLL_FORWARD_SCREENSHOT = Path("/tmp/dashboard-roll-forward.png")
OTHER_ZONE = "America/New_York"  # one the rollups do not keep: raw rows, or a refusal
ROLLUP_SECONDS = 30.0
READY_SECONDS = 20.0
LIVE_SECONDS = 10.0
PERIOD = (
    "start sales guestRevenue salesWithRedemption pointsEarned pointsAwarded pointsRedeemed "
    "pointsRedeemedPerTransaction activeCustomers newCustomers retainedCustomers retentionRate "
    "outstandingPoints outstandingValue revenue redemptionMedianDays redemptionP90Days"
)
ANALYTICS = f"""
query($range: AnalyticsRange!) {{
  analytics(range: $range) {{
    totals {{ {PERIOD} }}
    periods {{ {PERIOD} }}
    checkoutTime {{ p50Ms p95Ms p50Reduction p95Reduction }}
    campaigns {{ campaignId }}
    staff {{ staffId }}
    redemptionVelocity {{ rewardId }}
  }}
}}"""
CHARTS = """JSON.stringify(Object.fromEntries(Object.entries(window.dashboardCharts)
  .map(([name, chart]) => [name, chart.data.datasets.map((set) => set.data)])))"""
CARDS = """JSON.stringify(Object.fromEntries([...document.querySelectorAll("[data-%s]")]
  .map((card) => [card.dataset.%s,
                  {value: card.dataset.value, text: card.querySelector(".value").textContent}])))"""
FIRST_CELLS = """JSON.stringify([...document.querySelectorAll("#table-%s tbody tr")]
  .map((row) => row.cells[0].textContent))"""
READY = "document.body?.dataset.state === 'ready'"
SETTLED = "['ready', 'error'].includes(document.body?.dataset.state)"
REFUSED = "document.body?.dataset.state === 'error'"
PICK_ZONE = "document.getElementById('time-zone').value = '%s'"
APPLY = "document.getElementById('controls').requestSubmit()"
BANNER = """JSON.stringify({visible: !document.getElementById("error").hidden,
  code: document.getElementById("error-code").textContent,
  message: document.getElementById("error-message").textContent})"""
TABLES = ("staff", "velocity", "campaigns")
ROLL_FORWARD = """
query($from: DateTime!, $until: DateTime!) {
  liabilityRollForward(from: $from, until: $until) {
    start end openingPoints closingPoints openingValue closingValue
    points { issued awarded redeemed expired adjusted reversed }
    value { issued awarded redeemed expired adjusted reversed }
    openingBreakageInAdvance closingBreakageInAdvance
  }
}"""
MOVED = ("issued", "awarded", "redeemed", "expired", "adjusted", "reversed")
SET_RATE = """
mutation($input: SetBreakageRateInput!) {
  setBreakageRate(input: $input) { userErrors { code } }
}"""
ROLL_FORWARD_TABLE = """JSON.stringify([...document.querySelectorAll("#table-roll-forward tr")]
  .map((row) => [...row.cells].map((cell) => cell.textContent)))"""
ROLL_FORWARD_SECTION = """JSON.stringify({
  state: document.getElementById("roll-forward").dataset.state,
  note: document.getElementById("roll-forward-note").textContent,
  shown: [...document.querySelectorAll(
    "#roll-forward .chart, #roll-forward .scroll, #roll-forward-csv")].map((p) => !p.hidden)})"""
MINUS, DASH = "\N{MINUS SIGN}", "\N{EN DASH}"
STORE_OPTIONS = "JSON.stringify([...document.getElementById('stores').options].map(o => o.value))"


async def rolled_up(programme: Programme, range_: dict[str, Any]) -> None:
    """Wait until the rollups count every sale and the award (they count movements
    committed more than a moment ago; the award's worker runs on its own). An admin
    looks: awards belong to no store, so a manager's figures leave them out."""
    deadline = time.monotonic() + ROLLUP_SECONDS
    expected = (programme.sales, 2 * AWARDED)
    while True:
        found = await post(programme.base, programme.admin, ANALYTICS, {"range": range_})
        totals = found["analytics"]["totals"]
        counted = (totals["sales"], totals["pointsAwarded"])
        if counted == expected or time.monotonic() > deadline:
            assert counted == expected, totals
            return
        await asyncio.sleep(0.5)


def drawn(analytics: dict[str, Any]) -> dict[str, list[list[Any]]]:
    """What each chart must draw, from the API's own answer."""
    periods = analytics["periods"]
    return {
        "issuedRedeemed": [
            [p["pointsEarned"] + p["pointsAwarded"] for p in periods],
            [p["pointsRedeemed"] for p in periods],
            [p["outstandingPoints"] for p in periods],
        ],
        "retention": [[p["retentionRate"] for p in periods]],
        "velocity": [
            [p["redemptionMedianDays"] for p in periods],
            [p["redemptionP90Days"] for p in periods],
        ],
    }


TILE_SALES = "document.querySelector('[data-tile=sales]')?.dataset.value || ''"


async def test_the_dashboard_draws_the_api_figures_and_follows_a_store_live(
    tmp_path: Path,
) -> None:
    defaults = Settings()  # the server processes sign with the development secret
    admin = mint(defaults, Role.ADMIN, stores=(), terminal=None, staff="admin-1")
    cashier = mint(defaults, Role.CASHIER, stores=("S1",), terminal="T1", staff="cashier-7")
    manager = mint(defaults, Role.MANAGER, stores=("S1", "S2"), terminal=None, staff="manager-1")
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'dashboard.db'}"
    await asyncio.to_thread(upgrade_to_head, database_url)
    range_, moments = local_days(3)
    first_day, last_day = moments[0].date().isoformat(), moments[-1].date().isoformat()
    csv_file = tmp_path / f"analytics-periods-{range_['from'][:10]}-{range_['until'][:10]}.csv"

    with server(database_url, redis_url=None) as base:
        programme = Programme(base, admin, cashier)
        ada = await seed(programme, moments)
        variables = {**range_, "granularity": "DAY", "timeZone": ZONE}
        await rolled_up(programme, variables)
        seeded = programme.sales
        analytics = (await post(base, manager, ANALYTICS, {"range": variables}))["analytics"]
        fragment = f"token={manager}&from={first_day}&to={last_day}&granularity=DAY&tz={ZONE}"
        with browser(f"{base}/dashboard#{fragment}", tmp_path / "profile") as port:
            async with connect(page_socket(port), max_size=None) as devtools:
                tab = Tab(devtools)
                await tab.call("Runtime.enable")
                await tab.call(
                    "Page.setDownloadBehavior", behavior="allow", downloadPath=str(tmp_path)
                )
                await tab.wait_for(READY, READY_SECONDS)
                charts = await tab.evaluate(CHARTS)
                kpis = await tab.evaluate(CARDS % ("kpi", "kpi"))
                tables = {name: await tab.evaluate(FIRST_CELLS % name) for name in TABLES}
                books = await tab.evaluate(ROLL_FORWARD_SECTION)
                banner = await tab.evaluate(BANNER)
                pickable = await tab.evaluate(STORE_OPTIONS)
                address = await tab.evaluate("location.href")

                await tab.evaluate("document.querySelector('[data-csv=periods]').click()")
                before = int(await tab.wait_for(TILE_SALES, LIVE_SECONDS))
                now = datetime.now(ZoneInfo(ZONE))
                await programme.earn(cashier, ada, "S1", "5.00", now)
                await tab.wait_for(f"({TILE_SALES}) === '{before + 1}'", LIVE_SECONDS)
                await asyncio.to_thread(wait_until, csv_file.exists, LIVE_SECONDS, "the CSV")
                screenshot = await tab.screenshot()

                elsewhere = days_in(OTHER_ZONE, first_day, last_day)
                in_other_zone = await answer(base, manager, ANALYTICS, {"range": elsewhere})
                await tab.evaluate(f"{PICK_ZONE % OTHER_ZONE}; {APPLY}")
                await tab.wait_for(f"{SETTLED}", READY_SECONDS)
                after_other_zone = {
                    "charts": await tab.evaluate(CHARTS),
                    "banner": await tab.evaluate(BANNER),
                }
                exceptions = tab.exceptions

    save_screenshot(screenshot)
    assert exceptions == []
    assert "token=" not in address
    assert analytics["totals"]["sales"] == seeded
    assert charts == drawn(analytics)
    assert_page_follows(after_other_zone, in_other_zone)
    assert_cards_show(kpis, analytics)
    assert sorted(tables["staff"]) == sorted(s["staffId"] for s in analytics["staff"])
    assert "cashier-7" in tables["staff"]
    assert "COFFEE" in tables["velocity"]
    assert tables["campaigns"] == ["WINTER"]
    assert pickable == ["S1", "S2"]  # the manager's stores, not the airport
    assert not banner["visible"], banner
    assert books["state"] == "refused"
    assert "admin" in books["note"]
    assert books["shown"] == [False, False, False]
    downloaded = lines_of(csv_file)
    assert downloaded[0].startswith("start,end,sales,")
    assert len(downloaded) == 1 + len(analytics["periods"])


async def test_the_dashboard_shows_each_refusal_with_its_code_in_a_banner(
    tmp_path: Path,
) -> None:
    defaults = Settings()
    admin = mint(defaults, Role.ADMIN, stores=(), terminal=None)
    expired = mint(defaults, Role.MANAGER, stores=("S1",), terminal=None, ttl=-timedelta(hours=1))
    cashier = mint(defaults, Role.CASHIER, stores=("S1",), terminal="T1")
    manager = mint(defaults, Role.MANAGER, stores=("S1",), terminal=None)
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'refusals.db'}"
    await asyncio.to_thread(upgrade_to_head, database_url)
    cases = {
        "UNAUTHENTICATED": f"token={expired}",
        "FORBIDDEN": f"token={cashier}",
        "INVALID_INPUT": f"token={manager}&from=2026-11-10&to=2026-11-01&tz=UTC",
    }
    banners = {}

    with server(database_url, redis_url=None) as base:
        await post(base, admin, CREATE_STORE, {"input": {"id": "S1", "name": "Main"}})
        with browser("about:blank", tmp_path / "profile") as port:
            async with connect(page_socket(port), max_size=None) as devtools:
                tab = Tab(devtools)
                await tab.call("Runtime.enable")
                for number, (code, fragment) in enumerate(cases.items()):
                    # A new query string each time: a new page, not a change of fragment.
                    url = f"{base}/dashboard?case={number}#{fragment}"
                    await tab.call("Page.navigate", url=url)
                    shown = f"location.search === '?case={number}' && {REFUSED}"
                    await tab.wait_for(shown, READY_SECONDS)
                    banners[code] = await tab.evaluate(BANNER)

    for code, banner in banners.items():
        assert banner["visible"], code
        assert banner["code"] == code
        assert banner["message"]
    assert "expired" in banners["UNAUTHENTICATED"]["message"]
    assert tab.exceptions == []


async def test_an_admin_sees_the_liability_roll_forward_the_api_answers(tmp_path: Path) -> None:
    defaults = Settings()
    admin = mint(defaults, Role.ADMIN, stores=(), terminal=None, staff="admin-1")
    cashier = mint(defaults, Role.CASHIER, stores=("S1",), terminal="T1", staff="cashier-7")
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'books.db'}"
    await asyncio.to_thread(upgrade_to_head, database_url)
    range_, moments = local_days(3)
    first_day, last_day = moments[0].date().isoformat(), moments[-1].date().isoformat()
    csv_file = tmp_path / f"liability-roll-forward-{range_['from'][:10]}-{range_['until'][:10]}.csv"

    with server(database_url, redis_url=None) as base:
        # A fifth expected to break, from before the first sale: the points spent at the
        # checkouts recognise breakage in advance, which the table then shows.
        rate = {"rate": "0.2", "effectiveFrom": range_["from"]}
        assert (await post(base, admin, SET_RATE, {"input": rate}))["setBreakageRate"] == {
            "userErrors": []
        }
        await seed(Programme(base, admin, cashier), moments)
        span = {"from": range_["from"], "until": range_["until"]}
        periods = (await post(base, admin, ROLL_FORWARD, span))["liabilityRollForward"]
        fragment = f"token={admin}&from={first_day}&to={last_day}&granularity=DAY&tz={ZONE}"
        with browser(f"{base}/dashboard#{fragment}", tmp_path / "profile") as port:
            async with connect(page_socket(port), max_size=None) as devtools:
                tab = Tab(devtools)
                await tab.call("Runtime.enable")
                await tab.call(
                    "Page.setDownloadBehavior", behavior="allow", downloadPath=str(tmp_path)
                )
                await tab.wait_for(READY, READY_SECONDS)
                shown = await tab.evaluate(ROLL_FORWARD_TABLE)
                section = await tab.evaluate(ROLL_FORWARD_SECTION)
                charts = await tab.evaluate(CHARTS)
                await tab.evaluate("document.querySelector('[data-csv=roll-forward]').click()")
                await asyncio.to_thread(wait_until, csv_file.exists, LIVE_SECONDS, "the CSV")
                await tab.evaluate("document.getElementById('roll-forward').scrollIntoView()")
                screenshot = await tab.screenshot()
                exceptions = tab.exceptions

    save_screenshot(screenshot, ROLL_FORWARD_SCREENSHOT)
    assert exceptions == []
    assert section["state"] == "ready"
    assert section["shown"] == [True, True, True]
    assert Decimal(periods[-1]["closingBreakageInAdvance"]) > 0
    assert shown == [roll_forward_head(), *roll_forward_rows(periods)]
    assert charts["rollForward"] == roll_forward_chart(periods)
    downloaded = lines_of(csv_file)
    assert downloaded[0].startswith("start,end,openingPoints,issuedPoints,")
    assert len(downloaded) == 1 + len(periods)


def roll_forward_head() -> list[str]:
    moved = ["Issued", "Awarded", f"Redeemed ({MINUS})", f"Expired ({MINUS})", "Adjusted"]
    moved.append("Reversed")
    return ["Period", "", "Opening", *moved, "Closing", "Breakage in advance", "Net liability"]


def roll_forward_rows(periods: list[dict[str, Any]]) -> list[list[str]]:
    """What the table must show of each period: a row in points, a row in money."""
    shown = []
    for p in periods:
        start, end = (
            datetime.fromisoformat(p[edge]).astimezone(ZoneInfo(ZONE)) for edge in ("start", "end")
        )
        first, last = start.date(), (end - timedelta(microseconds=1)).date()
        label = str(first) if first == last else f"{first} {DASH} {last}"
        points = [p["openingPoints"], *(p["points"][name] for name in MOVED), p["closingPoints"]]
        values = [p["openingValue"], *(p["value"][name] for name in MOVED), p["closingValue"]]
        net = Decimal(p["closingValue"]) - Decimal(p["closingBreakageInAdvance"])
        shown.append([label, "points", *(f"{n:,}" for n in points), "", ""])
        shown.append(["", "value", *values, p["closingBreakageInAdvance"], amount(net)])
    return shown


def roll_forward_chart(periods: list[dict[str, Any]]) -> list[list[float]]:
    def value(p: dict[str, Any], name: str) -> float:
        return float(p["value"][name])

    return [
        [value(p, "issued") + value(p, "awarded") for p in periods],
        [-(value(p, "redeemed") + value(p, "expired")) for p in periods],
        [value(p, "adjusted") + value(p, "reversed") for p in periods],
        [float(p["closingValue"]) for p in periods],
    ]


async def answer(base: str, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The whole GraphQL answer, errors included."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        response = await http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=bearer(token)
        )
    body: dict[str, Any] = response.json()
    return body


def assert_page_follows(page: dict[str, Any], answered: dict[str, Any]) -> None:
    """The page draws what the API answered for the new range, or shows the API's refusal
    of it (a zone the rollups do not keep) with its code and message."""
    if "errors" in answered:
        error = answered["errors"][0]
        assert page["banner"] == {
            "visible": True,
            "code": error["extensions"]["code"],
            "message": error["message"],
        }
    else:
        assert not page["banner"]["visible"], page["banner"]
        assert page["charts"] == drawn(answered["data"]["analytics"])


def assert_cards_show(kpis: dict[str, dict[str, str]], analytics: dict[str, Any]) -> None:
    totals, checkout = analytics["totals"], analytics["checkoutTime"]
    assert kpis["sales"] == {"value": str(totals["sales"]), "text": str(totals["sales"])}
    assert kpis["revenue"] == {"value": totals["revenue"], "text": totals["revenue"]}
    assert totals["guestRevenue"] == "9.99"
    assert kpis["outstandingValue"]["text"] == totals["outstandingValue"]
    for key in ("outstandingPoints", "activeCustomers"):
        assert kpis[key]["value"] == str(totals[key]), key
    ratios = {
        "pointsRedeemedPerTransaction": totals["pointsRedeemedPerTransaction"],
        "retentionRate": totals["retentionRate"],
        "checkoutP50": checkout["p50Ms"],
        "checkoutP95": checkout["p95Ms"],
    }
    for key, value in ratios.items():
        assert (float(kpis[key]["value"]) if kpis[key]["value"] else None) == value, key
    assert checkout["p50Ms"] is not None
    assert kpis["checkoutP50"]["text"] == f"{checkout['p50Ms']:.0f} ms"


def save_screenshot(png: bytes, path: Path = SCREENSHOT) -> None:
    """Left in place for a person to look at."""
    assert len(png) > 10_000, "a blank page"
    path.write_bytes(png)
    print(f"dashboard screenshot: {path}")


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines()
