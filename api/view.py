"""The GraphQL view: GraphQL over HTTP and WebSocket, with the token checked before a
document is parsed, JSON refused that no database would store, and GraphiQL that sends
the token on its WebSocket too.

A till's every request is one JSON POST of one operation. Strawberry's view spends more
on such a request than executing a small query costs (a request adapter, a sub-response,
the content type parsed by the email package, stream transports looked for), so a POST
whose body is JSON of one operation goes a short way (`_posted`) through the same steps
that matter: the body parsed by `parse_json`, the context, `execute_operation` (the
refusal without a token, the operation types a POST allows, the 400s), `process_result`
and the JSON answer. Anything else, a batch or another content type or a GET, goes
Strawberry's way.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException, StarletteRequestAdapter
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.execution import SubscriptionExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from api.auth import REQUEST_AUTHENTICATION, Authentication
from api.context import Context
from api.errors import UNAUTHENTICATED
from api.fanout.broadcasts import Broadcasts
from api.fanout.handlers import SeatingGraphQLWSHandler, SeatingTransportWSHandler
from api.limits import storable

logger = logging.getLogger(__name__)

# The content types of a posted operation that take the short way (Strawberry's own way
# accepts these and more).
JSON_CONTENT_TYPES = frozenset({"application/json", "application/json; charset=utf-8"})
# Digits enough for an integer orjson reads as a float (past 64 bits), where the standard
# library keeps it exact.
LONG_NUMBER = re.compile(rb"\d{19}")


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
        if not storable(value):
            raise ValueError("a NUL or a lone surrogate in text")
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or self._streams_over_http:
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self._posted(request)
        except HTTPException as error:  # as Strawberry answers one
            response = PlainTextResponse(error.reason, status_code=error.status_code)
        await response(scope, receive, send)

    @property
    def _streams_over_http(self) -> bool:
        """Whether a protocol streams over HTTP (SSE, multipart), which the short way does
        not look for: none is configured."""
        return not set(self.protocols) <= {GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL}

    async def _posted(self, request: Request) -> Response:
        """One operation posted as JSON, the short way; anything else, Strawberry's."""
        operation = await self._one_operation(request)
        if operation is None:
            return await self.run(request)
        adapter = StarletteRequestAdapter(request)
        context = self._context_of(request)
        sub_response = await self.get_sub_response(request)
        result = await self.execute_operation(
            request, adapter, operation, context, None, sub_response
        )
        assert isinstance(result, ExecutionResult), "one operation, neither batch nor stream"
        answer = await self.process_result(request, result)
        if result.errors:
            self._handle_errors(result.errors, answer)
        return self.create_response(answer, sub_response)

    async def _one_operation(self, request: Request) -> GraphQLRequestData | None:
        """The operation of a JSON body holding one, its fields of the types Strawberry
        checks; None for any other body."""
        if request.headers.get("content-type") not in JSON_CONTENT_TYPES:
            return None
        data = self.parse_json(await request.body())
        if not isinstance(data, dict):
            return None
        query, variables = data.get("query"), data.get("variables")
        name, extensions = data.get("operationName"), data.get("extensions")
        if not (
            isinstance(query, str)
            and isinstance(variables, dict | None)
            and isinstance(name, str | None)
            and isinstance(extensions, dict | None)
        ):
            return None
        return GraphQLRequestData(query, variables, name, extensions, protocol="http")

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
            parsed = _decoded(data)
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
        if isinstance(request, Request):
            return self._context_of(request)
        return Context(services=request.app.state.services)

    def _context_of(self, request: Request) -> Context:
        context = Context(services=request.app.state.services)
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


def _decoded(data: str | bytes) -> Any:
    """JSON by orjson, several times as fast as the standard library; by the standard
    library where orjson refuses the text or would read a long integer as a float, so
    that every body reads as it always has (errors included)."""
    if isinstance(data, bytes) and LONG_NUMBER.search(data) is None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)
