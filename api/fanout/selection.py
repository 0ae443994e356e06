"""A subscription's selection: its document, variables and caller, executed once for an item
and encoded once, for every subscriber that asks the same."""

from __future__ import annotations

import json
import sys
from collections.abc import Hashable
from functools import lru_cache
from inspect import isawaitable
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    execute_subscription_event,
    parse,
)
from graphql.execution import Executor
from strawberry import Schema

from api.context import Context
from api.errors import MASKED_MESSAGE, should_mask
from api.limits import DOCUMENT_CACHE_SIZE


class Selection:
    """What a subscriber asked for, and of whom: subscribers whose selections are equal (the
    same document, operation, variables and principal) cannot be sent different payloads."""

    __slots__ = (
        "_executor",
        "_operation_name",
        "_principal",
        "_query",
        "_schema",
        "_services",
        "_variables",
    )

    def __init__(
        self,
        schema: Schema,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        context: Context,
    ) -> None:
        self._schema = schema
        # One text however many broadcasts run it; the variables as the key has them.
        self._query = sys.intern(query)
        # The standard library's encoder: it takes any integer JSON gave (orjson, 64 bits).
        self._variables = json.dumps(variables, sort_keys=True)
        self._operation_name = operation_name
        # Not the connection's context: a broadcast may outlive the connection that opened it.
        self._services = context.services
        self._principal = context.principal
        self._executor: Executor[Context] | None = None

    @property
    def key(self) -> Hashable:
        # The whole principal, not only the role: no field need be known to depend on it.
        return (self._query, self._operation_name, self._variables, self._principal)

    async def payload(self, item: object) -> str:
        """The item executed as the subscription's next result, encoded as JSON."""
        executor = self._executor_for_events().build_per_event_executor(item)
        result = execute_subscription_event(executor)
        if isawaitable(result):
            result = await result
        assert isinstance(result, ExecutionResult)
        return self._encoded(result.data, result.errors)

    def failure(self, error: Exception) -> str:
        """The result that ends a subscription whose source failed, as Strawberry sends it."""
        return self._encoded(None, [GraphQLError(str(error), original_error=error)])

    def _encoded(self, data: dict[str, Any] | None, errors: list[GraphQLError] | None) -> str:
        body: dict[str, Any] = {"data": data}
        if errors:
            self._schema.process_errors(errors)
            body["errors"] = [masked(error).formatted for error in errors]
        return orjson.dumps(body).decode()

    def _executor_for_events(self) -> Executor[Context]:
        """Built once, with a context of its own for the principal."""
        if self._executor is None:
            built = self._schema.execution_context_class.build(
                self._schema._schema,
                document(self._query),
                context_value=Context(self._services, self._principal),
                raw_variable_values=json.loads(self._variables),
                operation_name=self._operation_name,
            )
            if isinstance(built, list):  # the first result validated the same document
                raise built[0]
            self._executor = built
        return self._executor


@lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def document(query: str) -> DocumentNode:
    """Parsed once for every broadcast that runs it (one a customer watched, say)."""
    return parse(query)


def masked(error: GraphQLError) -> GraphQLError:
    """The error as MaskErrors sends it (the schema's extension masks only what Strawberry
    executes itself)."""
    if not should_mask(error):
        return error
    return GraphQLError(
        MASKED_MESSAGE,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
    )
