"""A page in headless Chromium driven over the DevTools protocol, for the browser tests."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from itertools import count
from typing import Any

from websockets.asyncio.client import ClientConnection


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
