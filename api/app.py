"""The ASGI application: Starlette routes, GraphQL over HTTP and WebSocket, a lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from api.context import Context, Services, utc_now
from api.jobs import BulkAwardWorker
from api.schema import build_schema
from api.settings import Settings
from persistence.database import Database
from subscriptions.hub import Hub

logger = logging.getLogger(__name__)


class LoyaltyGraphQL(GraphQL[Context, None]):
    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(services=request.app.state.services)


def database_for(settings: Settings) -> Database:
    options: dict[str, Any] = {}
    if not settings.is_embedded:
        options = {"pool_size": settings.database_pool_size, "pool_pre_ping": True}
    return Database(settings.database_url, **options)


def build_services(settings: Settings) -> Services:
    database = database_for(settings)
    hub = Hub()
    worker = BulkAwardWorker(
        database,
        hub,
        utc_now,
        batch_size=settings.bulk_award_batch_size,
        poll_seconds=settings.job_poll_seconds,
    )
    return Services(settings=settings, database=database, hub=hub, worker=worker)


async def health(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    try:
        await services.database.ping()
    except Exception:
        logger.exception("health check: the database is unreachable")
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    graphql = LoyaltyGraphQL(build_schema(), graphql_ide="graphiql")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        services = build_services(settings)
        app.state.services = services
        worker = asyncio.create_task(services.worker.run()) if settings.run_jobs else None
        try:
            yield
        finally:
            if worker is not None:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            await services.database.dispose()

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
