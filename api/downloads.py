"""What the plain HTTP downloads beside GraphQL share (the dashboard's CSVs, the books'
exports): the GraphQL view they take the request's context from, how they refuse a
request (a status and a stable code in a small JSON body), and, for a table that GraphQL
answers, the query run in process with that context and its rows written as CSV, so the
token, the role policy and the store scope are those of GraphQL itself and the figures
the same ones."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.schema.base import BaseSchema

from api.context import Context
from api.errors import FORBIDDEN, MASKED_MESSAGE, UNAUTHENTICATED
from domain.errors import ErrorCode

INVALID_INPUT = ErrorCode.INVALID_INPUT.value
STATUS_OF_CODE = {UNAUTHENTICATED: 401, FORBIDDEN: 403, INVALID_INPUT: 400}


class GraphQLView(Protocol):
    """What a download needs of the GraphQL view: its schema and its request context."""

    @property
    def schema(self) -> BaseSchema: ...

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context: ...


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        body = {"code": self.code, "message": self.message}
        return JSONResponse(body, status_code=self.status, headers=headers)


async def answered(
    view: GraphQLView, request: Request, query: str, variables: Mapping[str, Any]
) -> Mapping[str, Any]:
    """The data of a query run against the view's schema with the request's context."""
    context = await view.get_context(request, Response())
    if context.principal is None:
        raise Refusal(401, UNAUTHENTICATED, context.authentication_error)
    result = await view.schema.execute(
        query, variable_values=dict(variables), context_value=context
    )
    if result.errors:
        raise _refusal_of(result.errors[0])
    assert result.data is not None, "a result without errors has data"
    return result.data


def _refusal_of(error: GraphQLError) -> Refusal:
    """A refusal with a code the client can act on keeps it; what was masked stays masked,
    as a 500; anything else is about the query string's values, which did not fit the
    schema's types (a date that is no DateTime, an unknown granularity): a 400."""
    code = (error.extensions or {}).get("code")
    if isinstance(code, str) and code in STATUS_OF_CODE:
        return Refusal(STATUS_OF_CODE[code], code, error.message)
    if error.message == MASKED_MESSAGE:
        return Refusal(500, "INTERNAL_ERROR", error.message)
    return Refusal(400, INVALID_INPUT, error.message)


def csv_response(columns: list[str], rows: Iterable[Mapping[str, Any]], name: str) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({key: _cell(value) for key, value in row.items()} for row in rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=attachment(name))


def attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def _cell(value: object) -> object:
    """A null is an empty cell; Decimals already arrive as the scalar's text."""
    return "" if value is None else value


def day_of(instant: str) -> str:
    """A range's end, a midnight in the zone asked, names its day by its own date."""
    return datetime.fromisoformat(instant).date().isoformat()
