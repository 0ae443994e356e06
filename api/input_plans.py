"""Input objects built from their GraphQL values by a plan made once per input type.

Strawberry converts an argument's value (the mapping graphql-core coerced) into the input
dataclass field by field, and for every field of every request it resolves the field's
type, converts its name and tests what kind of type it is: for an `earnPoints` of two lines
that was about 7% of the server's CPU. The answers never change once the schema is built,
so each input type gets a plan of its fields (its GraphQL name, its Python name, and how
its value is converted) and Strawberry's own hook for input types that build their own
value (`StrawberryObjectDefinition.from_input`, which `convert_argument` calls) runs it.

What a plan does is what `convert_argument` does for the same type: None and UNSET pass
through an optional, a list of scalars or enums is copied, a list of inputs is converted
item by item, a scalar or enum is taken as graphql-core gave it, a nested input is built by
its own plan, and each field without a default is None until its value is given. Any other
type (Maybe, GlobalID, a lazy type) is converted by Strawberry itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, replace
from typing import Any

from strawberry.relay.types import GlobalID
from strawberry.scalars import is_scalar
from strawberry.schema.schema import Schema
from strawberry.types.arguments import InputContext
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    StrawberryType,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition
from strawberry.types.unset import UNSET

# A value converted: the value, the input's context, and its key in the input.
Converter = Callable[[Any, InputContext, str | int], Any]


def plan_inputs(schema: Schema) -> None:
    """Every input type of the schema builds its values by its plan."""
    definitions = [
        concrete.definition
        for concrete in schema.schema_converter.type_map.values()
        if isinstance(concrete.definition, StrawberryObjectDefinition)
        and concrete.definition.is_input
        and concrete.definition.from_input is None
        and not _has_maybe_field(concrete.definition)
    ]
    plans = {definition: InputPlan(definition) for definition in definitions}
    for definition, plan in plans.items():
        plan.make(schema, plans)
        definition.from_input = plan.build


class InputPlan:
    """One input type's fields, each with its GraphQL name, Python name and converter."""

    def __init__(self, definition: StrawberryObjectDefinition) -> None:
        self.definition = definition
        self.unset: dict[str, Any] = {}
        self.fields: tuple[tuple[str, str, Converter], ...] = ()

    def make(self, schema: Schema, plans: Mapping[StrawberryObjectDefinition, InputPlan]) -> None:
        names = schema.config.name_converter
        self.unset = {
            field.python_name: None
            for field in self.definition.fields
            if field.default_value is MISSING and field.default_factory is MISSING
        }
        self.fields = tuple(
            (
                names.from_field(field),
                field.python_name,
                _converter(field.resolve_type(type_definition=self.definition), schema, plans),
            )
            for field in self.definition.fields
        )

    def build(self, type_: type, value: Mapping[str, Any], context: InputContext) -> Any:
        kwargs = dict(self.unset)
        for graphql_name, python_name, convert in self.fields:
            if graphql_name in value:
                kwargs[python_name] = convert(value[graphql_name], context, graphql_name)
        return type_(**kwargs)


def _converter(
    type_: StrawberryType | type,
    schema: Schema,
    plans: Mapping[StrawberryObjectDefinition, InputPlan],
) -> Converter:
    registry = schema.schema_converter.scalar_registry
    if isinstance(type_, StrawberryOptional) and not isinstance(type_, StrawberryMaybe):
        return _optional(_converter(type_.of_type, schema, plans))
    if isinstance(type_, StrawberryList):
        item = type_.of_type
        if _is_leaf(item, registry) or (
            isinstance(item, StrawberryOptional)
            and not isinstance(item, StrawberryMaybe)
            and _is_leaf(item.of_type, registry)
        ):
            return _copied_list
        return _each(_converter(item, schema, plans))
    if _is_leaf(type_, registry):
        return _as_given
    if has_object_definition(type_) and type_.__strawberry_definition__ in plans:
        return _nested(plans[type_.__strawberry_definition__], type_)
    return _by_strawberry(type_)


def _is_leaf(type_: StrawberryType | type, registry: Mapping[object, Any]) -> bool:
    """A scalar or an enum, which graphql-core has already given as its Python value (a
    GlobalID is parsed by Strawberry)."""
    if type_ is GlobalID:
        return False
    return is_scalar(type_, registry) or isinstance(type_, StrawberryEnumDefinition)


def _has_maybe_field(definition: StrawberryObjectDefinition) -> bool:
    """Strawberry validates the nulls of Maybe fields only in inputs it converts itself."""
    return any(
        isinstance(field.resolve_type(type_definition=definition), StrawberryMaybe)
        for field in definition.fields
    )


def _as_given(value: Any, _context: InputContext, _key: str | int) -> Any:
    return value


def _copied_list(value: Any, _context: InputContext, _key: str | int) -> Any:
    # Copied: graphql-core gives the same default to every request that omits the value.
    return None if value is None else list(value)


def _optional(convert: Converter) -> Converter:
    def optional(value: Any, context: InputContext, key: str | int) -> Any:
        if value is None or value is UNSET:
            return value
        return convert(value, context, key)

    return optional


def _each(convert: Converter) -> Converter:
    def each(value: Any, context: InputContext, key: str | int) -> Any:
        if value is None:
            return None
        inner = replace(context, path=(*context.path, key))
        return [convert(item, inner, index) for index, item in enumerate(value)]

    return each


def _nested(plan: InputPlan, type_: type) -> Converter:
    def nested(value: Any, context: InputContext, key: str | int) -> Any:
        if value is None:
            return None
        return plan.build(type_, value, replace(context, path=(*context.path, key)))

    return nested


def _by_strawberry(type_: StrawberryType | type) -> Converter:
    def converted(value: Any, context: InputContext, key: str | int) -> Any:
        return context.convert(value, type_, key)

    return converted
