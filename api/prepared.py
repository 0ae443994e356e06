"""Documents already parsed and validated, run again without preparing them again.

A till sends the same few documents all day. Strawberry prepares each operation anew:
fresh instances of every extension, then the parser's and the validator's caches looked
up through their hooks, which costs several times what executing `{ __typename }` does.
A document that passed parsing and validation once passes again (the schema and the rules
are fixed for the life of the app, and validation does not depend on the variables or
the operation chosen), so the schema keeps it here, by its text, and the next request
sending that text is executed at once (api/schema.py, LoyaltySchema.execute). Only the
steps that can still change are taken: the operation's type against what the transport
allows, the variables (coerced by graphql-core as always), execution, and the errors
logged and masked as Strawberry's MaskErrors does.

Every extension of the schema must be one whose work is the preparing (limits, caches)
or MaskErrors: PREPARING_EXTENSIONS names them, and a test keeps it true.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, GraphQLError, execute
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema import Schema
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.utils.operation import get_operation_type

# What the schema's extensions may be (the order does not matter): the preparing ones,
# skipped for a prepared document, and MaskErrors, which the prepared path applies itself.
PREPARING_EXTENSIONS: tuple[type[SchemaExtension], ...] = (
    MaxTokensLimiter,
    AddValidationRules,
    ParserCache,
    ValidationCache,
    DisableIntrospection,
)


@dataclass(frozen=True)
class Operation:
    """What a request asks of a prepared document: the operation and its inputs."""

    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    context: Any
    root_value: Any
    extensions: dict[str, Any] | None


class PreparedDocuments:
    """Parsed and validated documents by their text; at most `maxsize`, the oldest
    forgotten first."""

    def __init__(self, maxsize: int) -> None:
        self._maxsize = maxsize
        self._documents: dict[str, DocumentNode] = {}

    def get(self, query: str) -> DocumentNode | None:
        return self._documents.get(query)

    def remember(self, query: str, document: DocumentNode) -> None:
        if query in self._documents:
            return
        if len(self._documents) >= self._maxsize:
            del self._documents[next(iter(self._documents))]
        self._documents[query] = document


class RememberPrepared(SchemaExtension):
    """Keeps each document that reached execution: it was parsed and validated."""

    def __init__(self, prepared: PreparedDocuments) -> None:
        self.prepared = prepared

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None and context.graphql_document is not None:
            self.prepared.remember(context.query, context.graphql_document)
        yield


def operation_type(document: DocumentNode, operation_name: str | None) -> OperationType | None:
    """As Strawberry reads it (the first operation when no name is given); None where the
    document has no such operation."""
    try:
        return get_operation_type(document, operation_name)
    except RuntimeError:
        return None


class PreparedExecution:
    """How the schema runs a prepared document: graphql-core's execution as Strawberry
    calls it, then the errors processed and masked as on Strawberry's own path."""

    def __init__(self, schema: Schema, masking: MaskErrors) -> None:
        if schema.config.enable_experimental_incremental_execution:
            raise ValueError("prepared documents are executed without incremental delivery")
        self._schema = schema
        self._masking = masking

    async def execute(self, document: DocumentNode, operation: Operation) -> ExecutionResult:
        try:
            executed = await self._run(document, operation)
        except Exception as error:  # as Strawberry: an error of the operation, masked
            errors = [error if isinstance(error, GraphQLError) else _wrapped(error)]
            return self._finished(ExecutionResult(data=None, errors=errors), document, operation)
        result = ExecutionResult(data=executed.data, errors=executed.errors)
        return self._finished(result, document, operation)

    async def _run(self, document: DocumentNode, operation: Operation) -> GraphQLExecutionResult:
        schema = self._schema
        result = execute(
            schema._schema,  # the graphql-core schema Strawberry built
            document,
            root_value=operation.root_value,
            context_value=operation.context,
            variable_values=operation.variables,
            operation_name=operation.operation_name,
            executor_class=schema.execution_context_class,
            is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
            operation_extensions=operation.extensions,
        )
        if inspect.isawaitable(result):
            return await result
        return result

    def _finished(
        self, result: ExecutionResult, document: DocumentNode, operation: Operation
    ) -> ExecutionResult:
        if result.errors:
            self._schema.process_errors(result.errors, _context(self._schema, document, operation))
            result.errors = _masked(self._masking, result.errors)
        return result


def _context(schema: Schema, document: DocumentNode, operation: Operation) -> ExecutionContext:
    """What Schema.process_errors is given about the operation (built only on errors)."""
    return ExecutionContext(
        query=operation.query,
        schema=schema,
        allowed_operations=(),
        context=operation.context,
        variables=operation.variables,
        root_value=operation.root_value,
        provided_operation_name=operation.operation_name,
        graphql_document=document,
        operation_extensions=operation.extensions,
    )


def _wrapped(error: Exception) -> GraphQLError:
    return GraphQLError(str(error), original_error=error)


def _masked(masking: MaskErrors, errors: Iterable[GraphQLError]) -> list[GraphQLError]:
    return [
        masking.anonymise_error(error) if masking.should_mask_error(error) else error
        for error in errors
    ]
