"""The analytics dashboard in headless Chromium: its charts and cards draw the numbers the
API answers, its CSV button downloads the table, its live tiles follow a sale.

As the display page's test: a real server process, Debian's chromium over the DevTools
protocol. The page is read through what it exposes for this: `window.dashboardCharts`
(the Chart.js charts) and the `data-kpi` / `data-tile` attributes of its cards.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from websockets.asyncio.client import ClientConnection, connect

from api.auth import Role
from api.settings import Settings
from persistence.migrate import upgrade_to_head
from tests.api.test_checkout import CHECKOUT
from tests.browser.test_display_page import browser, page_socket
from tests.conftest import bearer, mint
from tests.integration.test_processes import post, server, wait_until
from tests.operations import CREATE_STORE, EARN, ENROLL, line

SCREENSHOT = Path("/tmp/dashboard.png")
ZONE = "UTC"  # a zone the rollups keep (LOYALTY_ANALYTICS_TIME_ZONES' default)
OTHER_ZONE = "America/New_York"  # one they do not: the API computes from the raw rows
ROLLUP_SECONDS = 30.0
READY_SECONDS = 20.0
LIVE_SECONDS = 10.0
AWARDED = 50
CREATE_REWARD = """
mutation($input: RewardInput!) { createReward(input: $input) { userErrors { code message } } }"""
GUEST_SALE = """
mutation($input: RecordGuestSaleInput!) {
  recordGuestSale(input: $input) { userErrors { code message } }
}"""
BULK_AWARD = """
mutation($input: BulkAwardInput!) {
  bulkAwardPoints(input: $input) { bulkAward { id } userErrors { code message } }
}"""
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
STORE_OPTIONS = "JSON.stringify([...document.getElementById('stores').options].map(o => o.value))"


class Tab:
    """One page over the DevTools protocol: commands, and the page's uncaught exceptions."""

    def __init__(self, devtools: ClientConnection) -> None:
        self._devtools = devtools
        self._ids = count(1)
        self.exceptions: list[str] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        await self._devtools.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(await self._devtools.recv())
            if message.get("method") == "Runtime.exceptionThrown":
                self.exceptions.append(json.dumps(message["params"]["exceptionDetails"]))
            if message.get("id") == call_id:
                assert "error" not in message, message
                result: dict[str, Any] = message["result"]
                return result

    async def evaluate(self, expression: str) -> Any:
        """The expression's value; a JSON string from the page is decoded."""
        reply = await self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        assert "exceptionDetails" not in reply, reply["exceptionDetails"]
        value = reply["result"].get("value")
        return (
            json.loads(value) if isinstance(value, str) and value.startswith(("[", "{")) else value
        )

    async def wait_for(self, expression: str, seconds: float) -> Any:
        deadline = time.monotonic() + seconds
        while not (value := await self.evaluate(expression)):
            if time.monotonic() > deadline:
                state = await self.evaluate("document.body?.dataset.state")
                banner = await self.evaluate("document.getElementById('error').textContent")
                raise AssertionError(f"{expression!r} false after {seconds}s: {state} {banner!r}")
            await asyncio.sleep(0.1)
        return value

    async def screenshot(self) -> bytes:
        """The whole page, 1400 pixels wide."""
        metrics = {"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": False}
        await self.call("Emulation.setDeviceMetricsOverride", **metrics)
        height = await self.evaluate("document.documentElement.scrollHeight")
        await self.call("Emulation.setDeviceMetricsOverride", **{**metrics, "height": height})
        await asyncio.sleep(0.5)  # the charts redraw at the new size on their next frame
        shot = await self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        return base64.b64decode(shot["data"])


def local_days(days: int) -> tuple[dict[str, str], list[datetime]]:
    """The range of the last `days` whole days in ZONE, today included, as the page sends
    it, and a moment in each of those days that has already passed."""
    zone = ZoneInfo(ZONE)
    now = datetime.now(zone)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    starts = [
        (today - timedelta(days=back)).replace(tzinfo=zone) for back in range(days - 1, -1, -1)
    ]
    until = datetime.combine(today.date() + timedelta(days=1), today.time(), zone)
    moments = [start + timedelta(hours=12) for start in starts[:-1]]
    moments.append(max(starts[-1], now - timedelta(minutes=1)))
    return {"from": starts[0].isoformat(), "until": until.isoformat()}, moments


def days_in(zone_name: str, first: str, last: str) -> dict[str, str]:
    """The range from the day `first` to the day `last`, inclusive, in that zone."""
    zone = ZoneInfo(zone_name)
    start = datetime.fromisoformat(first).replace(tzinfo=zone)
    until = datetime.fromisoformat(last).replace(tzinfo=zone) + timedelta(days=1)
    return {"from": start.isoformat(), "until": until.isoformat(), "timeZone": zone_name}


class Programme:
    """Seeds a little of everything the dashboard shows, through the API as tills do."""

    def __init__(self, base: str, admin: str, cashier: str) -> None:
        self.base, self.admin, self.cashier = base, admin, cashier
        self.sales = 0
        self.keys = count(1)

    async def set_up(self) -> dict[str, str]:
        for store, name in (("S1", "High Street"), ("S2", "Station"), ("S3", "Airport")):
            await post(self.base, self.admin, CREATE_STORE, {"input": {"id": store, "name": name}})
        reward = {"id": "COFFEE", "name": "A coffee", "pointsCost": 20, "kind": "VOUCHER"}
        created = await post(self.base, self.admin, CREATE_REWARD, {"input": reward})
        assert created["createReward"]["userErrors"] == []
        customers = {}
        for email in ("ada@example.com", "bob@example.com", "cy@example.com"):
            enrolled = await post(self.base, self.cashier, ENROLL, {"input": {"email": email}})
            customers[email.split("@")[0]] = enrolled["enrollCustomer"]["customer"]["id"]
        return customers

    async def earn(self, token: str, customer: str, store: str, price: str, at: datetime) -> None:
        earn_input = {**self._sale(customer, store, price), "occurredAt": at.isoformat()}
        earned = await post(self.base, token, EARN, {"input": earn_input})
        assert earned["earnPoints"]["userErrors"] == [], earned
        self.sales += 1

    async def checkout(
        self, token: str, customer: str, store: str, price: str, at: datetime, **spend: Any
    ) -> None:
        started = at - timedelta(milliseconds=900 + 300 * self.sales)
        checkout_input = {
            **self._sale(customer, store, price),
            "occurredAt": at.isoformat(),
            "startedAt": started.isoformat(),
            **spend,
        }
        paid = await post(self.base, token, CHECKOUT, {"input": checkout_input})
        assert paid["checkout"]["userErrors"] == [], paid
        self.sales += 1

    async def guest_sale(self, store: str, price: str, at: datetime) -> None:
        key = f"guest-{next(self.keys)}"
        sale = {"idempotencyKey": key, "storeId": store, "lines": [line(price)]}
        sale["occurredAt"] = at.isoformat()
        recorded = await post(self.base, self.cashier, GUEST_SALE, {"input": sale})
        assert recorded["recordGuestSale"]["userErrors"] == [], recorded

    async def award(self, customers: list[str]) -> None:
        award = {
            "idempotencyKey": "winter-award",
            "customerIds": customers,
            "points": AWARDED,
            "reason": "winter campaign",
            "campaignId": "WINTER",
        }
        awarded = await post(self.base, self.admin, BULK_AWARD, {"input": award})
        assert awarded["bulkAwardPoints"]["userErrors"] == []

    def _sale(self, customer: str, store: str, price: str) -> dict[str, Any]:
        key = f"sale-{next(self.keys)}"
        return {
            "customerId": customer,
            "idempotencyKey": key,
            "storeId": store,
            "lines": [line(price)],
        }


async def seed(programme: Programme, moments: list[datetime]) -> str:
    """Sales over three days in two stores, a reward and points spent, an award; returns
    a customer's id."""
    customers = await programme.set_up()
    ada, bob, cy = customers["ada"], customers["bob"], customers["cy"]
    admin, cashier = programme.admin, programme.cashier
    first, second, today = moments
    await programme.earn(cashier, ada, "S1", "40.00", first)
    await programme.earn(admin, bob, "S2", "25.00", first + timedelta(hours=1))
    await programme.checkout(cashier, ada, "S1", "10.00", second, rewardId="COFFEE")
    await programme.earn(cashier, cy, "S1", "15.00", second + timedelta(hours=2))
    await programme.guest_sale("S1", "9.99", second + timedelta(hours=3))
    await programme.checkout(admin, bob, "S2", "12.00", today, points=10)
    await programme.earn(cashier, ada, "S1", "8.00", today)
    await programme.award([bob, cy])
    return ada


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


def save_screenshot(png: bytes) -> None:
    """Left in place for a person to look at."""
    assert len(png) > 10_000, "a blank page"
    SCREENSHOT.write_bytes(png)
    print(f"dashboard screenshot: {SCREENSHOT}")


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines()
