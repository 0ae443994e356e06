"""The GraphQL schema, and its SDL as checked in at schema.graphql."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from api.analytics.resolvers import AnalyticsQueries, AnalyticsSubscriptions
from api.campaigns.resolvers import CampaignMutations, CampaignQueries
from api.customers.resolvers import CustomerMutations, CustomerQueries
from api.displays.resolvers import DisplayMutations, DisplaySubscriptions
from api.errors import MASKED_MESSAGE, client_extensions, should_mask
from api.execution import PlainFieldsExecutionContext
from api.guests.resolvers import GuestMutations
from api.input_plans import plan_inputs
from api.ledger.resolvers import LedgerMutations, LedgerQueries
from api.ledger.roll_forward import RollForwardQueries
from api.ledger.valuation import ValuationMutations, ValuationQueries
from api.limits import DOCUMENT_CACHE_SIZE, document_limits
from api.points.resolvers import PointsMutations, PointsQueries, PointsSubscriptions
from api.prepared import (
    Operation,
    PreparedDocuments,
    PreparedExecution,
    RememberPrepared,
    operation_type,
)
from api.programme.resolvers import ProgrammeMutations, ProgrammeQueries
from api.scalars import SCALAR_MAP, allow_wide_int_output
from api.settings import Settings
from api.stores.resolvers import StoreMutations, StoreQueries
from domain.errors import DomainError

logger = logging.getLogger(__name__)

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"

# Each feature's fields, merged into the root types (features in the order a till meets them).
Query = merge_types(
    "Query",
    (
        CustomerQueries,
        StoreQueries,
        PointsQueries,
        ProgrammeQueries,
        CampaignQueries,
        AnalyticsQueries,
        LedgerQueries,
        ValuationQueries,
        RollForwardQueries,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        CustomerMutations,
        StoreMutations,
        PointsMutations,
        GuestMutations,
        ProgrammeMutations,
        CampaignMutations,
        DisplayMutations,
        LedgerMutations,
        ValuationMutations,
    ),
)
Subscription = merge_types(
    "Subscription", (PointsSubscriptions, DisplaySubscriptions, AnalyticsSubscriptions)
)


def _masked_errors() -> MaskErrors:
    return MaskErrors(should_mask_error=should_mask, error_message=MASKED_MESSAGE)


class LoyaltySchema(strawberry.Schema):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Strawberry's schema, which keeps the documents it prepared (api/prepared.py) and
        builds its inputs by plans (api/input_plans.py)."""
        self.prepared = PreparedDocuments(DOCUMENT_CACHE_SIZE)
        remember = partial(RememberPrepared, self.prepared)
        kwargs["extensions"] = [*kwargs.get("extensions", ()), remember]
        super().__init__(*args, **kwargs)
        plan_inputs(self)
        self.prepared_execution = PreparedExecution(self, _masked_errors())

    async def execute(  # noqa: PLR0917  (Strawberry's signature)
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """Subscriptions are served over WebSocket; posted over HTTP they are refused with
        a 400 that says so, instead of failing as a query would. A document prepared
        before runs at once; any other goes Strawberry's way, which prepares it."""
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES)
        allowed.discard(OperationType.SUBSCRIPTION)
        document = None if query is None else self.prepared.get(query)
        kind = None if document is None else operation_type(document, operation_name)
        if document is None or kind is None:
            return await super().execute(
                query,
                variable_values,
                context_value,
                root_value,
                operation_name,
                allowed,
                operation_extensions,
            )
        if kind not in allowed:
            raise InvalidOperationTypeError(kind)
        operation = Operation(
            query=query or "",
            variables=variable_values,
            operation_name=operation_name,
            context=context_value,
            root_value=root_value,
            extensions=operation_extensions,
        )
        return await self.prepared_execution.execute(document, operation)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Unexpected errors are logged with their traceback; a client's own mistakes are not
        the operator's problem and are logged quietly. A domain error raised by a query or
        subscription (mutations return theirs as userErrors) carries its code and field."""
        for error in errors:
            if isinstance(error.original_error, DomainError):
                error.extensions = client_extensions(error.original_error)
            if self.config.disable_field_suggestions:
                # Strawberry strips them from unknown fields only; arguments and types too.
                error.message = error.message.split(" Did you mean")[0]
            if should_mask(error):
                logger.error("unexpected error: %s", error.message, exc_info=error.original_error)
            else:
                logger.info("client error: %s", error.message)


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    allow_wide_int_output()
    return LoyaltySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(
            scalar_map=SCALAR_MAP, disable_field_suggestions=settings.is_production
        ),
        extensions=[*document_limits(settings), _masked_errors],
        execution_context_class=PlainFieldsExecutionContext,
    )


def schema_sdl(schema: strawberry.Schema) -> str:
    return schema.as_str() + "\n"
