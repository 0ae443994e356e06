"""What the plain HTTP downloads beside GraphQL share (the dashboard's CSVs, the books'
exports): the GraphQL view they take the request's context from, and how they refuse a
request, with a status and a stable code in a small JSON body."""

from __future__ import annotations

from typing import Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.schema.base import BaseSchema

from api.context import Context
from domain.errors import ErrorCode

INVALID_INPUT = ErrorCode.INVALID_INPUT.value


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
