"""Strawberry's two WebSocket protocols, with a seat offered to each subscription.

Each operation runs as Strawberry runs it (parsing, validation, the policy, errors and
their masking, the first result); one whose resolver takes its seat then ends its task
after its first result and stays, until it is stopped or its connection closes, a
subscriber of its broadcast. The operation stays registered, so the limit of
subscriptions per connection and the protocols' rules about ids hold as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import suppress
from typing import Any, TypeVar, cast

from strawberry import Schema
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import CompleteMessage, ErrorMessage
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from api.context import Context
from api.fanout.broadcasts import Broadcasts
from api.fanout.seats import Seat
from api.fanout.selection import Selection
from api.fanout.subscribers import Outbox, Subscriber

ResultT = TypeVar("ResultT")


async def until_seated(
    results: AsyncIterator[ResultT], seat: Seat
) -> AsyncGenerator[ResultT, None]:
    """The results, up to and including the first of a resolver that took its seat; its
    broadcast starts sending once that one is sent."""
    async for result in results:
        yield result
        if seat.held:
            seat.start()
            return


def unseat(seats: dict[str, Seat], operation_id: str) -> None:
    """The operation's seat, if it has one, left and forgotten."""
    seat = seats.pop(operation_id, None)
    if seat is not None:
        seat.leave()


def release(seats: dict[str, Seat], operation_id: str, seat: Seat) -> None:
    """The seat left, and forgotten unless its id is already another operation's."""
    seat.leave()
    if seats.get(operation_id) is seat:
        del seats[operation_id]


def outbox_of(websocket: object) -> Outbox:
    assert isinstance(websocket, ASGIWebSocketAdapter), "served by Strawberry's ASGI view"
    return Outbox(websocket.ws.send_text)


def broadcasts_of(view: object) -> Broadcasts:
    broadcasts = getattr(view, "broadcasts", None)
    assert isinstance(broadcasts, Broadcasts), "the view keeps the process's broadcasts"
    return broadcasts


class SeatingTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outbox = outbox_of(self.websocket)
        self.seats: dict[str, Seat] = {}

    def _seat(self, operation: Operation[Context, None]) -> Seat:
        selection = Selection(
            cast(Schema, self.schema),
            operation.query,
            operation.variables,
            operation.operation_name,
            self.context,
        )
        seat = Seat(
            broadcasts_of(self.view),
            selection,
            self.outbox,
            Subscriber.opening("next", operation.id),
            lambda: self._ended(operation.id),
        )
        self.seats[operation.id] = seat
        return seat

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        """Strawberry's, but for a seated operation, which neither completes nor forgets its
        id when its task ends."""
        seat = self._seat(operation)
        try:
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=self.context,
                root_value=seat,
                operation_name=operation.operation_name,
            )
            async with aclosing(result_source):
                await self._send_result_stream(operation, until_seated(result_source, seat))
            if seat.started:
                # Nothing of the task is kept: a seated operation is its seat.
                operation.query, operation.variables, operation.task = "", None, None
                return
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _OperationStreamClosed:
            return
        except Exception as error:  # pragma: no cover  (as Strawberry's)
            await self.handle_task_exception(error)
            with suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise
        finally:
            if not seat.started:
                release(self.seats, operation.id, seat)

    def _ended(self, operation_id: str) -> None:
        """Its broadcast failed: the failure and `complete` are on their way."""
        self.seats.pop(operation_id, None)
        self.operations.pop(operation_id, None)

    async def cleanup_operation(self, operation_id: str) -> None:
        unseat(self.seats, operation_id)
        operation = self.operations.get(operation_id)
        if operation is not None and operation.task is None:  # seated: no task to cancel
            del self.operations[operation_id]
            return
        await super().cleanup_operation(operation_id)

    async def shutdown(self) -> None:
        await super().shutdown()
        for operation_id in tuple(self.seats):  # seats of operations that failed
            unseat(self.seats, operation_id)
        await self.outbox.close()


class SeatingGraphQLWSHandler(BaseGraphQLWSHandler[Context, None]):
    """The legacy graphql-ws. It has no connection_init timeout of its own: a socket that has
    not initialised in time is closed, as graphql-transport-ws does (4408)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outbox = outbox_of(self.websocket)
        self.seats: dict[str, Seat] = {}

    async def handle(self) -> None:
        watchdog = asyncio.create_task(self._close_unless_initialised())
        try:
            await super().handle()
        finally:
            watchdog.cancel()
            for operation_id in tuple(self.seats):  # seats of operations that failed
                unseat(self.seats, operation_id)
            await self.outbox.close()

    async def _close_unless_initialised(self) -> None:
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        if not self.connection_acknowledged:
            await self.websocket.close(code=4408, reason="Connection initialisation timeout")

    def _seat(
        self, operation_id: str, query: str, operation_name: str | None, variables: Any
    ) -> Seat:
        selection = Selection(
            cast(Schema, self.schema), query, variables, operation_name, self.context
        )
        seat = Seat(
            broadcasts_of(self.view),
            selection,
            self.outbox,
            Subscriber.opening("data", operation_id),
            lambda: self._ended(operation_id),
        )
        self.seats[operation_id] = seat
        return seat

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        """Strawberry's, but a seated operation's finished task stays in `tasks` (it counts
        towards the limit, and `stop` completes it)."""
        seat = self._seat(operation_id, query, operation_name, variables)
        try:
            result_source = await self.schema.subscribe(
                query=query,
                variable_values=variables,
                operation_name=operation_name,
                context_value=self.context,
                root_value=seat,
            )
            self.subscriptions[operation_id] = result_source
            async with aclosing(result_source):
                await self._send_results(operation_id, until_seated(result_source, seat))
            if seat.started:
                return
            await self.send_message(CompleteMessage(type="complete", id=operation_id))
        except asyncio.CancelledError:
            await self.send_message(CompleteMessage(type="complete", id=operation_id))
        finally:
            self.subscriptions.pop(operation_id, None)
            if not seat.started:
                self.tasks.pop(operation_id, None)
                release(self.seats, operation_id, seat)

    async def _send_results(
        self, operation_id: str, results: AsyncIterator[ExecutionResult | PreExecutionError]
    ) -> None:
        is_first_result = True
        async for result in results:
            if is_first_result and isinstance(result, PreExecutionError):
                assert result.errors
                error = ErrorMessage(
                    type="error", id=operation_id, payload=result.errors[0].formatted
                )
                await self.send_message(error)
                return
            await self.send_data_message(result, operation_id)
            is_first_result = False

    def _ended(self, operation_id: str) -> None:
        self.seats.pop(operation_id, None)
        self.tasks.pop(operation_id, None)

    async def cleanup_operation(self, operation_id: str) -> None:
        """A seated operation's task has ended: `complete` is sent here, as Strawberry sends
        it from a cancelled one."""
        seat = self.seats.get(operation_id)
        await super().cleanup_operation(operation_id)
        if seat is not None and seat.started:
            unseat(self.seats, operation_id)
            with suppress(Exception):
                await self.send_message(CompleteMessage(type="complete", id=operation_id))
        else:
            unseat(self.seats, operation_id)
