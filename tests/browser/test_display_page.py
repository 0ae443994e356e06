"""The reference display page in headless Chromium: it shows an earn within a second.

A real server process, a real browser (Debian's chromium, which .ci/run installs),
driven over the DevTools protocol with the `websockets` package.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect

from api.auth import Role
from api.settings import Settings
from persistence.migrate import upgrade_to_head
from tests.conftest import IN_CI, mint
from tests.integration.test_processes import free_port, post, server, wait_until
from tests.operations import CREATE_STORE, EARN, ENROLL, line

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOWN_WITHIN_SECONDS = 1.0
SHOW = (
    'mutation($id: ID!) { showOnDisplay(input: {terminalId: "T1", storeId: "S1", '
    "customerId: $id}) { userErrors { code } } }"
)


def chromium_binary() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        message = "chromium is not installed (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return binary


@contextmanager
def browser(url: str, profile: Path) -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen(
        [
            chromium_binary(),
            *CHROMIUM_FLAGS,
            f"--remote-debugging-port={port}",
            f"--user-data-dir={profile}",
            url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: bool(page_socket(port)), 30, "chromium's DevTools")
        yield port
    finally:
        process.kill()
        process.wait(timeout=10)


def page_socket(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=1) as response:
        targets = json.loads(response.read())
    pages = [t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page"]
    return pages[0] if pages else ""


class Page:
    def __init__(self, devtools: ClientConnection) -> None:
        self._devtools = devtools
        self._ids = count(1)

    async def text_of(self, element_id: str) -> str:
        call_id = next(self._ids)
        expression = f"document.getElementById({element_id!r}).textContent"
        await self._devtools.send(
            json.dumps(
                {"id": call_id, "method": "Runtime.evaluate", "params": {"expression": expression}}
            )
        )
        while True:
            reply = json.loads(await self._devtools.recv())
            if reply.get("id") == call_id:
                return str(reply["result"]["result"].get("value", ""))

    async def wait_for(self, element_id: str, text: str, seconds: float) -> float:
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            if await self.text_of(element_id) == text:
                return time.monotonic() - started
            await asyncio.sleep(0.02)
        shown = await self.text_of(element_id)
        raise AssertionError(f"#{element_id} shows {shown!r}, not {text!r}, after {seconds}s")


async def test_the_display_page_shows_an_earn_within_a_second(tmp_path: Path) -> None:
    defaults = Settings()  # the server processes sign with the development secret
    admin = mint(defaults, Role.ADMIN, stores=(), terminal=None)
    screen = mint(defaults, Role.DISPLAY, stores=("S1",), terminal="T1")
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'display.db'}"
    await asyncio.to_thread(upgrade_to_head, database_url)
    with server(database_url, redis_url=None) as base:
        await post(base, admin, CREATE_STORE, {"input": {"id": "S1", "name": "Main"}})
        enrolled = await post(base, admin, ENROLL, {"input": {"email": "d@example.com"}})
        customer_id = enrolled["enrollCustomer"]["customer"]["id"]
        await post(base, admin, SHOW, {"id": customer_id})
        with browser(f"{base}/display/T1#token={screen}", tmp_path / "profile") as port:
            async with connect(page_socket(port), max_size=None) as devtools:
                page = Page(devtools)
                await page.wait_for("balance", "0", seconds=15)
                earn_input = {
                    "customerId": customer_id,
                    "idempotencyKey": "shown",
                    "storeId": "S1",
                    "terminalId": "T1",
                    "lines": [line("25.00")],
                }
                await post(base, admin, EARN, {"input": earn_input})
                took = await page.wait_for("balance", "25", SHOWN_WITHIN_SECONDS)
                assert await page.text_of("last") == "+25 points"

    assert took < SHOWN_WITHIN_SECONDS
