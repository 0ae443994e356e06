"""The ASGI application: Starlette routes, GraphQL over HTTP and WebSocket, a lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types import ExecutionResult
from strawberry.types.execution import SubscriptionExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from api.auth import TokenIssuer
from api.context import Context, Services, expiry_policy, utc_now
from api.errors import UNAUTHENTICATED
from api.jobs import BulkAwardWorker, ExpiryWorker, OutboxRelay
from api.rate_limit import RateLimitMiddleware, RateLimits
from api.schema import build_schema
from api.settings import Settings
from persistence.database import Database
from subscriptions.broker import Broker, InProcessBroker, RedisBroker
from subscriptions.hub import Hub

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS = 3.0
KEEP_ALIVE_SECONDS = 15.0


# GraphiQL sends its Headers tab over HTTP only; this hands the Authorization header to
# the WebSocket's connection_init too, so subscriptions work from GraphiQL.
GRAPHIQL_FETCHER = """      const fetcher = GraphiQL.createFetcher({
        url: fetchURL,
        headers: defaultHeaders,
        subscriptionUrl,
      });"""
GRAPHIQL_FETCHER_WITH_AUTHORIZATION = """      const authorizationFromHeadersTab = () => {
        let headers = {};
        try {
          headers = JSON.parse(localStorage.getItem("graphiql:headers") || "{}") || {};
        } catch (error) {}
        const name = Object.keys(headers).find((key) => key.toLowerCase() === "authorization");
        return name ? { authorization: headers[name] } : {};
      };
      const fetcher = GraphiQL.createFetcher({
        url: fetchURL,
        headers: defaultHeaders,
        subscriptionUrl,
        wsConnectionParams: authorizationFromHeadersTab,
      });"""


def refuse_unstorable_text(value: object) -> None:
    """Raise ValueError for a NUL or a lone surrogate anywhere in a parsed JSON value."""
    if isinstance(value, str):
        value.encode()  # UnicodeEncodeError, a ValueError, on a lone surrogate
        if "\x00" in value:
            raise ValueError("NUL in text")
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_unstorable_text(key)
            refuse_unstorable_text(item)
    elif isinstance(value, list):
        for item in value:
            refuse_unstorable_text(item)


class InitialisingGraphQLWSHandler(BaseGraphQLWSHandler[Context, None]):
    """The legacy graphql-ws protocol has no connection_init timeout of its own: close a
    socket that has not initialised in time, as graphql-transport-ws does (4408)."""

    async def handle(self) -> None:
        watchdog = asyncio.create_task(self._close_unless_initialised())
        try:
            await super().handle()
        finally:
            watchdog.cancel()

    async def _close_unless_initialised(self) -> None:
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        if not self.connection_acknowledged:
            await self.websocket.close(code=4408, reason="Connection initialisation timeout")


class LoyaltyGraphQL(GraphQL[Context, None]):
    graphql_ws_handler_class = InitialisingGraphQLWSHandler

    def parse_json(self, data: str | bytes) -> Any:
        """Refuse, as the client's mistake, JSON that is not an object (or a batch), or
        that Python will not decode: invalid UTF-8, nesting past the recursion limit, an
        integer of thousands of digits, text no database stores (NUL, lone surrogates)."""
        try:
            parsed = super().parse_json(data)
            refuse_unstorable_text(parsed)
        except (ValueError, RecursionError):
            raise HTTPException(400, "Unable to parse request body as JSON") from None
        if not isinstance(parsed, dict | list):
            raise HTTPException(400, "The request body must be a JSON object with a query")
        return parsed

    @property
    def graphql_ide_html(self) -> str:
        html = super().graphql_ide_html
        if GRAPHIQL_FETCHER not in html:
            logger.warning("GraphiQL page changed: subscriptions from it will lack the token")
        return html.replace(GRAPHIQL_FETCHER, GRAPHIQL_FETCHER_WITH_AUTHORIZATION)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        context = Context(services=request.app.state.services)
        if isinstance(request, Request):
            context.authenticate(request.headers.get("authorization"))
        return context

    async def execute_operation(  # noqa: PLR0917  (Strawberry's signature)
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        """A request without a valid token is refused before its document is parsed or
        validated: validating a hostile document costs the server, a refusal does not."""
        if context.principal is None:
            refusal = GraphQLError(
                context.authentication_error, extensions={"code": UNAUTHENTICATED}
            )
            return ExecutionResult(data=None, errors=[refusal])
        return await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """A WebSocket authenticates once, in connection_init: {"authorization": "Bearer ..."}.
        Refused connections are closed (4403 on graphql-transport-ws)."""
        params = context.connection_params or {}
        authorization = params.get("authorization", params.get("Authorization"))
        context.authenticate(authorization if isinstance(authorization, str) else None)
        if context.principal is None:
            raise ConnectionRejectionError({"reason": context.authentication_error})
        accepted: UnsetType = UNSET  # acknowledge with an empty payload
        return accepted


def database_for(settings: Settings) -> Database:
    options: dict[str, Any] = {}
    if not settings.is_embedded:
        options = {"pool_size": settings.database_pool_size, "pool_pre_ping": True}
    return Database(settings.database_url, **options)


def broker_for(settings: Settings, hub: Hub) -> Broker:
    if settings.redis_url is None:
        return InProcessBroker(hub)
    client = Redis.from_url(
        settings.redis_url,
        client_name=f"{settings.redis_prefix}:app",
        health_check_interval=10,
        socket_keepalive=True,
    )
    return RedisBroker(hub, client, settings.redis_prefix)


def build_services(settings: Settings) -> Services:
    database = database_for(settings)
    hub = Hub()
    broker = broker_for(settings, hub)
    worker = BulkAwardWorker(
        database,
        broker,
        utc_now,
        batch_size=settings.bulk_award_batch_size,
        poll_seconds=settings.job_poll_seconds,
    )
    tokens = TokenIssuer(settings.auth_secret.get_secret_value())
    return Services(
        settings=settings,
        database=database,
        hub=hub,
        broker=broker,
        worker=worker,
        relay=OutboxRelay(
            database,
            broker,
            utc_now,
            grace=timedelta(seconds=settings.outbox_grace_seconds),
            poll_seconds=settings.outbox_poll_seconds,
        ),
        expiry=ExpiryWorker(
            database,
            broker,
            utc_now,
            policy=expiry_policy(settings),
            batch_size=settings.expiry_batch_size,
            interval_seconds=settings.expiry_interval_seconds,
        ),
        tokens=tokens,
        rate_limits=RateLimits.of(settings, tokens),
    )


DISPLAY_PAGE = Path(__file__).resolve().parent / "static" / "display.html"


async def display_page(request: Request) -> HTMLResponse:
    """The reference customer display: plain HTML and JavaScript, no build step."""
    return HTMLResponse(DISPLAY_PAGE.read_text())


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


async def expire_due_points(settings: Settings) -> int:
    """`loyalty expire`: one expiry run, publishing the balance changes as a server would."""
    services = build_services(settings)
    listener = asyncio.create_task(services.broker.run())
    try:
        return await services.expiry.expire_due()
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await services.broker.close()
        await services.database.dispose()


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
        background = [asyncio.create_task(services.broker.run())]
        if settings.run_jobs:
            background.append(asyncio.create_task(services.worker.run()))
            background.append(asyncio.create_task(services.relay.run()))
            if settings.points_expiry != "never":
                background.append(asyncio.create_task(services.expiry.run()))
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await services.broker.close()
            await services.database.dispose()

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/display/{terminal_id}", display_page, methods=["GET"]),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(RateLimitMiddleware)])
