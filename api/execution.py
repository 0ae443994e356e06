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

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from math import isfinite
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLInt,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLString,
    Undefined,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import AwaitableOrValue, Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from api.scalars import JSON_SAFE_INTEGER, wide_int_output_allowed

GroupedFieldSet = dict[str, FieldDetailsList]
STRAWBERRY_DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF


@dataclass(frozen=True)
class PlainField:
    """A selected field that is an attribute read and a scalar serialised."""

    response_name: str
    read: Callable[[Any], Any]
    coerce: Callable[[Any], Any]
    non_null: bool
    # The Python type the scalar serialises as itself (PASSES), so that most values skip
    # the call: None for every other scalar.
    passes: type | None


@dataclass(frozen=True)
class PlainObject:
    """The selected fields of an object whose fields are all plain, and how to complete
    it: every attribute read in one call where each field is an attribute read."""

    fields: tuple[PlainField, ...]
    read_all: Callable[[Any], tuple[Any, ...]] | None

    @classmethod
    def of(cls, fields: list[PlainField], attributes: list[str] | None) -> PlainObject:
        if attributes is None or not attributes:  # none: every field skipped, say
            return cls(tuple(fields), None)
        getter = attrgetter(*attributes)
        read_all = getter if len(attributes) > 1 else lambda source: (getter(source),)
        return cls(tuple(fields), read_all)

    def complete(self, source: Any) -> dict[str, Any]:
        """The object's fields serialised; NotPlain where one of them is an error."""
        try:
            if self.read_all is not None:
                values = self.read_all(source)
            else:
                values = tuple(field.read(source) for field in self.fields)
        except Exception as error:
            raise NotPlain("a field could not be read") from error
        completed: dict[str, Any] = {}
        for field, value in zip(self.fields, values, strict=True):
            kind = type(value)
            # Most values are their own serialisation (inline: thousands a report).
            if value is None and not field.non_null:
                completed[field.response_name] = None
            elif kind is field.passes and (
                (kind is int and -JSON_SAFE_INTEGER <= value <= JSON_SAFE_INTEGER)
                or (kind is float and isfinite(value))
                or kind is str
                or kind is bool
            ):
                completed[field.response_name] = value
            else:
                completed[field.response_name] = _completed(field, value)
        return completed


class NotPlain(Exception):
    """This object's plain fields hold an error: complete it the ordinary way."""


class PlainFieldsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # By the grouped field set (graphql-core memoises one per list, so every item of a
        # list shares it): the set, kept alive so its id is not reused, and its plan.
        self._plans: dict[int, tuple[GroupedFieldSet, PlainObject | None]] = {}

    def complete_iterable_value(  # noqa: PLR0917  (graphql-core's signature)
        self,
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        items: Iterable[Any],
        position_context: Any,
    ) -> AwaitableOrValue[list[Any]]:
        """A list of objects whose selected fields are all plain, each item completed
        directly (a long report's periods); anything else, and any list holding an error
        (a null item, a field that does not serialise), the ordinary way."""
        plan = self._list_plan(item_type, field_details_list, path, position_context)
        if plan is not None and isinstance(items, list | tuple):
            try:
                return [plan.complete(item) for item in items]
            except NotPlain:
                pass
        return super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context
        )

    def _list_plan(
        self,
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> PlainObject | None:
        if position_context is not None:  # within a deferred fragment (incremental delivery)
            return None
        named = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if not isinstance(named, GraphQLObjectType) or named.is_type_of is not None:
            return None
        if self.get_stream_usage(field_details_list, path) is not None:
            return None
        grouped_field_set, new_defer_usages, *_ = self.collect_subfields(named, field_details_list)
        if new_defer_usages:
            return None
        return self._plan(named, grouped_field_set)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        plan = self._plan(parent_type, grouped_field_set) if position_context is None else None
        if plan is not None:
            try:
                return plan.complete(source_value)
            except NotPlain:
                pass
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def _plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> PlainObject | None:
        cached = self._plans.get(id(grouped_field_set))
        if cached is not None and cached[0] is grouped_field_set:
            return cached[1]
        plan = self._plain_fields(parent_type, grouped_field_set)
        self._plans[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan

    def _plain_fields(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> PlainObject | None:
        """Every selected field as a plain field, or None when one of them is not."""
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            return None  # an extension's resolve() would be skipped
        plan: list[PlainField] = []
        attributes: list[str] | None = []
        for response_name, details in grouped_field_set.items():
            if any(detail.defer_usage is not None for detail in details):
                return None  # delivered later, the ordinary way
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
            attribute = _attribute(field)
            if attributes is not None and attribute is not None:
                attributes.append(attribute)
            else:
                attributes = None
            read = attrgetter(attribute) if attribute is not None else _resolved(field)
            coerce = named.coerce_output_value
            plan.append(PlainField(response_name, read, coerce, non_null, _passing_type(named)))
        return PlainObject.of(plan, attributes)


def _attribute(field: GraphQLField) -> str | None:
    """The attribute a plain field reads where it reads it with getattr (Strawberry's
    default); None where it goes through its resolver."""
    definition = field.extensions[STRAWBERRY_DEFINITION]
    if definition.base_resolver is None and definition.default_resolver is getattr:
        return str(definition.python_name)
    return None


def _resolved(field: GraphQLField) -> Callable[[Any], Any]:
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


def _completed(field: PlainField, value: Any) -> Any:
    if value is None:
        if field.non_null:
            raise NotPlain(field.response_name)
        return None
    if isinstance(value, Exception):  # graphql-core reports a returned error as one
        raise NotPlain(field.response_name)
    try:
        serialized = field.coerce(value)
    except Exception as error:
        raise NotPlain(field.response_name) from error
    if serialized is Undefined or serialized is None:
        raise NotPlain(field.response_name)
    return serialized


# The built-in scalars that serialise a value of exactly this type as the value itself
# (an int within what JSON readers keep exactly, a finite float; any str or bool): Int
# (where api.scalars widens it), Float, String and Boolean.
PASSES: dict[GraphQLNamedType, type] = {
    GraphQLInt: int,
    GraphQLFloat: float,
    GraphQLString: str,
    GraphQLBoolean: bool,
}


def _passing_type(named: GraphQLNamedType) -> type | None:
    if named is GraphQLInt and not wide_int_output_allowed():
        return None  # graphql-core's own Int: 32 bits
    return PASSES.get(named)
