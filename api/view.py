"""The GraphQL view: GraphQL over HTTP and WebSocket, with the token checked before a
document is parsed, JSON refused that no database would store, and GraphiQL that sends
the token on its WebSocket too."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.execution import SubscriptionExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from api.auth import REQUEST_AUTHENTICATION, Authentication
from api.context import Context
from api.errors import UNAUTHENTICATED
from api.fanout.broadcasts import Broadcasts
from api.fanout.handlers import SeatingGraphQLWSHandler, SeatingTransportWSHandler

logger = logging.getLogger(__name__)


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


class LoyaltyGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = SeatingTransportWSHandler
    graphql_ws_handler_class = SeatingGraphQLWSHandler

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.broadcasts = Broadcasts()

    def encode_json(self, data: object) -> str:
        """Responses by orjson: a two-year report by day is thousands of objects, which the
        standard library's encoder takes several times as long over. Text, not bytes:
        Strawberry sends bytes over a WebSocket as binary frames, which GraphQL clients
        do not read."""
        return orjson.dumps(data).decode()

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
            # Verified by the rate limiter already, where it ran (not on every route).
            verified = request.scope.get("state", {}).get(REQUEST_AUTHENTICATION)
            if isinstance(verified, Authentication):
                context.authenticated(verified)
            else:
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
