"""The GraphQL schema, and its SDL as checked in at schema.graphql."""

from __future__ import annotations

from pathlib import Path

import strawberry
from strawberry.extensions import MaskErrors
from strawberry.schema.config import StrawberryConfig

from api.errors import MASKED_MESSAGE, should_mask
from api.resolvers.mutation import Mutation
from api.resolvers.query import Query
from api.resolvers.subscription import Subscription
from api.types.scalars import SCALAR_MAP

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def _masked_errors() -> MaskErrors:
    return MaskErrors(should_mask_error=should_mask, error_message=MASKED_MESSAGE)


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        extensions=[_masked_errors],
    )


def schema_sdl(schema: strawberry.Schema) -> str:
    return schema.as_str() + "\n"
