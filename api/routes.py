"""The plain HTTP routes beside GraphQL: health for load balancers, the display and
dashboard pages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from api.services import Services

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS = 3.0
STATIC_DIRECTORY = Path(__file__).resolve().parent / "static"
DISPLAY_PAGE = STATIC_DIRECTORY / "display.html"
DASHBOARD_PAGE = STATIC_DIRECTORY / "dashboard.html"


async def display_page(request: Request) -> HTMLResponse:
    """The reference customer display: plain HTML and JavaScript, no build step."""
    return HTMLResponse(DISPLAY_PAGE.read_text())


async def dashboard_page(request: Request) -> HTMLResponse:
    """The analytics dashboard: plain HTML and JavaScript, its chart library vendored."""
    return HTMLResponse(DASHBOARD_PAGE.read_text())


async def health(request: Request) -> JSONResponse:
    """503 when the database is unreachable: nothing can be served. Without the broker,
    points still move and subscribers catch up later, so the process is only degraded."""
    services: Services = request.app.state.services
    database = await _reachable("database", services.database.ping)
    broker = await _reachable("broker", services.broker.ping)
    if not database:
        status, code = "unavailable", 503
    else:
        status, code = ("ok" if broker else "degraded"), 200
    body = {"status": status, "database": _word(database), "broker": _word(broker)}
    return JSONResponse(body, status_code=code)


async def _reachable(name: str, ping: Callable[[], Awaitable[None]]) -> bool:
    try:
        await asyncio.wait_for(ping(), HEALTH_TIMEOUT_SECONDS)
    except Exception:
        logger.exception("health check: the %s is unreachable", name)
        return False
    return True


def _word(reachable: bool) -> str:
    return "ok" if reachable else "unreachable"
