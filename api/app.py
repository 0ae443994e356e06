"""The ASGI application: its routes and the lifespan that builds and closes its services."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from api.analytics.csv import analytics_csv
from api.ledger.exports import ledger_exports
from api.ledger.roll_forward import roll_forward_csv
from api.rate_limit import RateLimitMiddleware
from api.routes import STATIC_DIRECTORY, dashboard_page, display_page, health
from api.schema import build_schema
from api.services import Services, build_services, close_services
from api.settings import Settings
from api.view import LoyaltyGraphQL
from workers.base import Worker

KEEP_ALIVE_SECONDS = 15.0
WORKER_STOP_GRACE_SECONDS = 10.0
logger = logging.getLogger(__name__)
_RUNNING_APPS = [0]  # apps of this process between startup and close


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    graphql = LoyaltyGraphQL(
        build_schema(settings),
        graphql_ide="graphiql",
        keep_alive=True,
        keep_alive_interval=KEEP_ALIVE_SECONDS,
        connection_init_wait_timeout=timedelta(seconds=settings.connection_init_timeout_seconds),
    )
    gl_export, journal_export = ledger_exports(graphql)
    graphql.max_subscriptions_per_connection = settings.max_subscriptions_per_connection

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        services = build_services(settings)
        app.state.services = services
        listener = asyncio.create_task(services.broker.run())
        workers = _workers(services)
        running = [asyncio.create_task(worker.run()) for worker in workers]
        _set_aside_what_startup_built()
        try:
            yield
        finally:
            _give_back_to_the_collector()
            await _stop(workers, running)
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
            await close_services(services)

    # GraphQL first: nearly every request is one, and the router tries the routes in order.
    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/display/{terminal_id}", display_page, methods=["GET"]),
        Route("/dashboard", dashboard_page, methods=["GET"]),
        Route("/dashboard/roll-forward.csv", roll_forward_csv(graphql), methods=["GET"]),
        Route("/dashboard/{table}.csv", analytics_csv(graphql), methods=["GET"]),
        Route("/exports/gl.csv", gl_export, methods=["GET"]),
        Route("/exports/journal.jsonl", journal_export, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC_DIRECTORY), name="static"),
        WebSocketRoute("/graphql", graphql),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(RateLimitMiddleware)])


def _set_aside_what_startup_built() -> None:
    """What startup built (modules, the schema, the services) lives as long as the app:
    kept out of the cyclic collector's sight (gc.freeze) so that a full collection,
    which a long report's allocations set off every few requests, does not walk it all
    again. On this app each such collection paused the process for about 100 ms, the
    slowest twentieth of two-year analytics reports. (No collection first, which would
    cost as much: startup's little garbage is set aside with the rest until the last app
    of the process closes.)"""
    _RUNNING_APPS[0] += 1
    gc.freeze()


def _give_back_to_the_collector() -> None:
    """Once the process's last app closes (tests run many, some at once), everything set
    aside may be collected again."""
    _RUNNING_APPS[0] -= 1
    if _RUNNING_APPS[0] == 0:
        gc.unfreeze()


def _workers(services: Services) -> list[Worker]:
    """The outbox's marker, and the workers when this process runs jobs (the broker's
    listener runs always)."""
    settings = services.settings
    if not settings.run_jobs:
        return [services.marker]
    workers: list[Worker] = [
        services.marker,
        services.worker,
        services.relay,
        services.rollups,
        services.snapshots,
    ]
    if settings.points_expiry != "never":
        workers.append(services.expiry)
    if settings.reconcile_interval_seconds:
        workers.append(services.reconciliation)
    return workers


async def _stop(workers: list[Worker], running: list[asyncio.Task[None]]) -> None:
    """Each worker finishes the batch under way and returns; one that takes longer than
    the grace period is cancelled (its transaction rolls back, nothing is half counted)."""
    for worker in workers:
        worker.stop()
    if not running:
        return
    _done, late = await asyncio.wait(running, timeout=WORKER_STOP_GRACE_SECONDS)
    for task in late:
        logger.warning("a worker did not stop in %s s; cancelled", WORKER_STOP_GRACE_SECONDS)
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
