"""GraphQL execution with a short path for objects whose selected fields are all plain.

A long analytics report is thousands of objects of plain fields (an attribute read and a
scalar serialised: two years by day are 730 periods of 25 numbers). graphql-core builds a
path, a resolve info and an argument map for each of those fields before reading the
attribute, most of a report's time. Here an object whose selected fields are all plain
(Strawberry's default resolver, no arguments, a scalar or enum type) is completed by
reading and serialising each field directly. Anything else, and any plain field that
would be an error (a null where the type is non-null, a value that does not serialise),
goes the ordinary way, which reports it as graphql-core always has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from graphql import GraphQLField, GraphQLNonNull, GraphQLObjectType, Undefined, is_leaf_type
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import AwaitableOrValue, Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

GroupedFieldSet = dict[str, FieldDetailsList]
STRAWBERRY_DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF


@dataclass(frozen=True)
class PlainField:
    """A selected field that is an attribute read and a scalar serialised."""

    response_name: str
    read: Callable[[Any], Any]
    coerce: Callable[[Any], Any]
    non_null: bool


class NotPlain(Exception):
    """This object's plain fields hold an error: complete it the ordinary way."""


class PlainFieldsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # By the grouped field set (graphql-core memoises one per list, so every item of a
        # list shares it): the set, kept alive so its id is not reused, and its plan.
        self._plans: dict[int, tuple[GroupedFieldSet, tuple[PlainField, ...] | None]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        plan = self._plan(parent_type, grouped_field_set)
        if plan is not None:
            try:
                return {field.response_name: _completed(field, source_value) for field in plan}
            except NotPlain:
                pass
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def _plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> tuple[PlainField, ...] | None:
        cached = self._plans.get(id(grouped_field_set))
        if cached is not None and cached[0] is grouped_field_set:
            return cached[1]
        plan = self._plain_fields(parent_type, grouped_field_set)
        self._plans[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan

    def _plain_fields(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> tuple[PlainField, ...] | None:
        """Every selected field as a plain field, or None when one of them is not."""
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            return None  # an extension's resolve() would be skipped
        plan = []
        for response_name, details in grouped_field_set.items():
            node = details[0].node
            field = self.schema.get_field(parent_type, node.name.value)
            if field is None or field.args or node.arguments or field.resolve is None:
                return None
            if not _is_attribute_read(field):
                return None
            non_null = isinstance(field.type, GraphQLNonNull)
            named = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            if not is_leaf_type(named):
                return None
            plan.append(
                PlainField(response_name, _reader(field), named.coerce_output_value, non_null)
            )
        return tuple(plan)


def _reader(field: GraphQLField) -> Callable[[Any], Any]:
    """How a plain field's value is read from its object: the attribute itself where the
    field reads it with getattr (Strawberry's default), else through its resolver."""
    definition = field.extensions[STRAWBERRY_DEFINITION]
    if definition.base_resolver is None and definition.default_resolver is getattr:
        return attrgetter(definition.python_name)
    resolve = field.resolve
    assert resolve is not None, "a plain field has Strawberry's resolver"
    return lambda source: resolve(source, None)


def _is_attribute_read(field: GraphQLField) -> bool:
    """Strawberry's resolver of a field without a resolver, extensions or permissions
    (those keep `_is_default` too, but run their chain and may be async)."""
    definition = field.extensions.get(STRAWBERRY_DEFINITION)
    return (
        getattr(field.resolve, "_is_default", False)
        and isinstance(definition, StrawberryField)
        and definition.is_basic_field
        and not definition.is_async
    )


def _completed(field: PlainField, source: Any) -> Any:
    try:
        value = field.read(source)
        if value is None:
            if field.non_null:
                raise NotPlain(field.response_name)
            return None
        serialized = field.coerce(value)
    except NotPlain:
        raise
    except Exception as error:
        raise NotPlain(field.response_name) from error
    if serialized is Undefined or serialized is None:
        raise NotPlain(field.response_name)
    return serialized
