"""The ASGI application: its routes and the lifespan that builds and closes its services."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from api.analytics.csv import analytics_csv
from api.rate_limit import RateLimitMiddleware
from api.routes import STATIC_DIRECTORY, dashboard_page, display_page, health
from api.schema import build_schema
from api.services import Services, build_services, close_services
from api.settings import Settings
from api.view import LoyaltyGraphQL

KEEP_ALIVE_SECONDS = 15.0


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    graphql = LoyaltyGraphQL(
        build_schema(settings),
        graphql_ide="graphiql",
        keep_alive=True,
        keep_alive_interval=KEEP_ALIVE_SECONDS,
        connection_init_wait_timeout=timedelta(seconds=settings.connection_init_timeout_seconds),
    )
    graphql.max_subscriptions_per_connection = settings.max_subscriptions_per_connection

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        services = build_services(settings)
        app.state.services = services
        background = [asyncio.create_task(task) for task in _background_work(services)]
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await close_services(services)

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/display/{terminal_id}", display_page, methods=["GET"]),
        Route("/dashboard", dashboard_page, methods=["GET"]),
        Route("/dashboard/{table}.csv", analytics_csv(graphql), methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC_DIRECTORY), name="static"),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(RateLimitMiddleware)])


def _background_work(services: Services) -> list[Coroutine[Any, Any, None]]:
    """The broker's listener always; the workers when this process runs jobs."""
    settings = services.settings
    work = [services.broker.run()]
    if settings.run_jobs:
        work += [services.worker.run(), services.relay.run(), services.rollups.run()]
        if settings.points_expiry != "never":
            work.append(services.expiry.run())
    return work
