"""Every input type built by its plan (api/input_plans.py) is what Strawberry's own
conversion builds from the same GraphQL value: with every field given, with only the
required ones, and with the nullable ones given as null."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from strawberry.types.arguments import convert_argument
from strawberry.types.base import StrawberryObjectDefinition

from api.schema import build_schema

SCALARS: dict[str, Any] = {
    "ID": "an-id",
    "String": "text",
    "Int": 7,
    "Float": 1.5,
    "Boolean": False,
    "Decimal": Decimal("12.75"),
    "DateTime": datetime(2026, 12, 7, 9, 30, tzinfo=UTC),
}


@pytest.fixture(scope="module")
def schema() -> strawberry.Schema:
    # Built by the tests, not at import: building it widens GraphQL's Int for the process
    # (api/scalars.py), which tests/unit/test_execution.py reads as it was at its import.
    return build_schema()


def inputs_of(schema: strawberry.Schema) -> list[StrawberryObjectDefinition]:
    return sorted(
        (
            concrete.definition
            for concrete in schema.schema_converter.type_map.values()
            if isinstance(concrete.definition, StrawberryObjectDefinition)
            and concrete.definition.is_input
        ),
        key=lambda definition: definition.name,
    )


def test_every_input_type_of_the_schema_has_a_plan(schema: strawberry.Schema) -> None:
    inputs = inputs_of(schema)
    assert inputs
    assert all(definition.from_input is not None for definition in inputs)


@pytest.mark.parametrize("shape", ["every field", "required only", "nulls"])
def test_a_plan_builds_what_strawberry_builds(schema: strawberry.Schema, shape: str) -> None:
    for definition in inputs_of(schema):
        value = sample(schema._schema.get_type(definition.name), shape)  # type: ignore[arg-type]

        planned = convert(schema, definition, value)
        plan = definition.from_input
        definition.from_input = None
        try:
            by_strawberry = convert(schema, definition, value)
        finally:
            definition.from_input = plan

        assert planned == by_strawberry, definition.name
        assert type(planned) is type(by_strawberry)


def convert(
    schema: strawberry.Schema, definition: StrawberryObjectDefinition, value: dict[str, Any]
) -> Any:
    return convert_argument(
        value, definition.origin, schema.schema_converter.scalar_registry, schema.config
    )


def sample(graphql_type: GraphQLInputType, shape: str, depth: int = 0, item: int = 0) -> Any:
    """A value graphql-core could have coerced for the type, in the shape asked (the items
    of a list differ)."""
    if isinstance(graphql_type, GraphQLNonNull):
        return sample(graphql_type.of_type, shape, depth, item)
    if isinstance(graphql_type, GraphQLList):
        return [sample(graphql_type.of_type, shape, depth, index) for index in range(2)]
    if isinstance(graphql_type, GraphQLEnumType):
        values = list(graphql_type.values.values())
        return values[item % len(values)].value
    if isinstance(graphql_type, GraphQLScalarType):
        return varied(SCALARS.get(graphql_type.name, "a value"), item)
    assert isinstance(graphql_type, GraphQLInputObjectType)
    return dict(fields_of(graphql_type, shape, depth))


def varied(value: Any, item: int) -> Any:
    if isinstance(value, bool):
        return item % 2 == 1
    if isinstance(value, str):
        return f"{value}-{item}"
    if isinstance(value, datetime):
        return value + timedelta(minutes=item)
    return value + item


def fields_of(
    graphql_type: GraphQLInputObjectType, shape: str, depth: int
) -> Iterator[tuple[str, Any]]:
    for name, field in graphql_type.fields.items():
        required = isinstance(field.type, GraphQLNonNull)
        if required or (shape == "every field" and depth < 3):
            yield name, sample(field.type, shape, depth + 1)
        elif shape == "nulls":
            yield name, None
