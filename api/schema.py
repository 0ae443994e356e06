"""The GraphQL schema, and its SDL as checked in at schema.graphql."""

from __future__ import annotations

import logging
from pathlib import Path

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from api.errors import MASKED_MESSAGE, should_mask
from api.limits import document_limits
from api.resolvers.mutation import Mutation
from api.resolvers.query import Query
from api.resolvers.subscription import Subscription
from api.settings import Settings
from api.types.scalars import SCALAR_MAP

logger = logging.getLogger(__name__)

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def _masked_errors() -> MaskErrors:
    return MaskErrors(should_mask_error=should_mask, error_message=MASKED_MESSAGE)


class LoyaltySchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Unexpected errors are logged with their traceback; a client's own mistakes are not
        the operator's problem and are logged quietly."""
        for error in errors:
            if self.config.disable_field_suggestions:
                # Strawberry strips them from unknown fields only; arguments and types too.
                error.message = error.message.split(" Did you mean")[0]
            if should_mask(error):
                logger.error("unexpected error: %s", error.message, exc_info=error.original_error)
            else:
                logger.info("client error: %s", error.message)


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    return LoyaltySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(
            scalar_map=SCALAR_MAP, disable_field_suggestions=settings.is_production
        ),
        extensions=[*document_limits(settings), _masked_errors],
    )


def schema_sdl(schema: strawberry.Schema) -> str:
    return schema.as_str() + "\n"
