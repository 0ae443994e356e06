"""The short path for plain fields answers exactly what graphql-core's ordinary path does."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any, ClassVar, cast

import pytest
import strawberry
from graphql import GraphQLInt
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission
from strawberry.scalars import JSON
from strawberry.types import Info

from api.execution import PlainFieldsExecutionContext
from api.scalars import allow_wide_int_output

GRAPHQL_CORE_INT = GraphQLInt.coerce_output_value  # before api.scalars widens it


@strawberry.enum
class Colour(enum.Enum):
    RED = "RED"
    BLUE = "BLUE"


@strawberry.type
class Row:
    number: int
    name: str
    colour: Colour
    ratio: float | None
    amount: Decimal
    label: str | None = None

    @strawberry.field
    def doubled(self, by: int = 2) -> int:
        return self.number * by


class Always(BasePermission):
    message = "never shown"

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return True


@strawberry.type
class Guarded:
    # No resolver but a permission: its async check must run, so it is not plain (JSON
    # would take even the coroutine as its value).
    secret: object = strawberry.field(permission_classes=[Always], graphql_type=JSON)
    open: int = 1


@strawberry.type
class Broken:
    number: int


@strawberry.type
class Failing:
    detail: object = strawberry.field(graphql_type=JSON)


def rows() -> list[Row]:
    return [
        Row(
            number=index,
            name=f"row {index}",
            colour=Colour.RED,
            ratio=index / 4,
            amount=Decimal(index),
        )
        for index in range(3)
    ] + [
        Row(
            number=7, name="last", colour=Colour.BLUE, ratio=None, amount=Decimal("1.50"), label="x"
        )
    ]


@strawberry.type
class Query:
    @strawberry.field
    def rows(self) -> list[Row]:
        return rows()

    @strawberry.field
    def broken(self) -> list[Broken]:
        # A null where the schema promises a number: an error either way.
        return [Broken(number=1), Broken(number=cast(int, None))]

    @strawberry.field
    def guarded(self) -> list[Guarded]:
        return [Guarded(secret="s1"), Guarded(secret="s2")]

    @strawberry.field
    def unserializable(self) -> list[Broken]:
        return [Broken(number=cast(int, "not a number"))]

    @strawberry.field
    def failing(self) -> list[Failing]:
        # A resolved error is reported as one, not sent as data.
        return [Failing(detail={"ok": 1}), Failing(detail=ValueError("boom"))]

    @strawberry.field
    def endless(self) -> list[Row]:
        # A float JSON cannot carry, in the second item: an error either way.
        last = Row(number=1, name="inf", colour=Colour.RED, ratio=float("inf"), amount=Decimal(1))
        return [*rows()[:1], last]


def schemas(**options: Any) -> tuple[strawberry.Schema, strawberry.Schema]:
    ordinary = strawberry.Schema(query=Query, **options)
    short = strawberry.Schema(
        query=Query, execution_context_class=PlainFieldsExecutionContext, **options
    )
    return ordinary, short


def both(document: str, **options: Any) -> tuple[Any, Any]:
    ordinary, short = schemas(**options)
    return ordinary.execute_sync(document), short.execute_sync(document)


def test_plain_objects_come_out_the_same_field_for_field_and_in_order() -> None:
    document = "{ rows { amount name colour number ratio label alias: number } }"
    ordinary, short = both(document)
    assert ordinary.errors is None
    assert short.errors is None
    assert short.data == ordinary.data
    assert [list(row) for row in short.data["rows"]] == [list(row) for row in ordinary.data["rows"]]
    assert short.data["rows"][3] == {
        "amount": "1.50",
        "name": "last",
        "colour": "BLUE",
        "number": 7,
        "ratio": None,
        "label": "x",
        "alias": 7,
    }


def test_fields_with_resolvers_and_arguments_take_the_ordinary_path() -> None:
    ordinary, short = both("{ rows { number doubled tripled: doubled(by: 3) __typename } }")
    assert short.errors is None
    assert short.data == ordinary.data
    assert short.data["rows"][1] == {"number": 1, "doubled": 2, "tripled": 3, "__typename": "Row"}


def test_a_null_in_a_non_null_field_is_the_same_error() -> None:
    ordinary, short = both("{ broken { number } }")
    assert short.data == ordinary.data
    assert [(e.message, e.path) for e in short.errors] == [
        (e.message, e.path) for e in ordinary.errors
    ]
    assert short.errors[0].path == ["broken", 1, "number"]


def test_a_value_that_does_not_serialise_is_the_same_error() -> None:
    ordinary, short = both("{ unserializable { number } }")
    assert short.errors is not None
    assert [(e.message, e.path) for e in short.errors] == [
        (e.message, e.path) for e in ordinary.errors
    ]


def test_an_object_whose_fields_are_all_skipped_is_empty_as_graphql_core_answers() -> None:
    for document in (
        "{ rows { number @skip(if: true) } }",
        "{ rows { ... on Row @include(if: false) { number } } }",
    ):
        ordinary, short = both(document)
        assert short.errors is None
        assert short.data == ordinary.data == {"rows": [{}, {}, {}, {}]}


def test_an_error_held_as_a_value_is_the_same_error() -> None:
    ordinary, short = both("{ failing { detail } }")
    assert short.data == ordinary.data
    assert [(e.message, e.path) for e in short.errors] == [
        (e.message, e.path) for e in ordinary.errors
    ]
    assert short.errors[0].path == ["failing", 1, "detail"]


def test_a_float_json_cannot_carry_is_the_same_error_at_the_same_path() -> None:
    ordinary, short = both("{ endless { number ratio } }")
    assert short.data == ordinary.data
    assert [(e.message, e.path) for e in short.errors] == [
        (e.message, e.path) for e in ordinary.errors
    ]
    assert short.errors[0].path == ["endless", 1, "ratio"]


def test_a_list_of_plain_objects_is_completed_without_completing_each_item(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    items: list[str] = []
    original = PlainFieldsExecutionContext.complete_list_item_value

    def counting(self: Any, item: Any, *args: Any) -> Any:
        items.append(type(item).__name__)
        return original(self, item, *args)

    monkeypatch.setattr(PlainFieldsExecutionContext, "complete_list_item_value", counting)
    ordinary, short = both("{ rows { number name ratio } broken { number } }")
    assert short.data == ordinary.data
    assert [e.path for e in short.errors] == [e.path for e in ordinary.errors]
    # The list holding an error goes the ordinary way, item by item.
    assert items == ["Broken", "Broken"]


async def test_a_field_with_permissions_and_no_resolver_is_checked_and_awaited() -> None:
    ordinary, short = schemas()
    document = "{ guarded { secret open } }"
    expected = await ordinary.execute(document)
    answered = await short.execute(document)
    assert answered.errors is None
    assert (
        answered.data
        == expected.data
        == {"guarded": [{"secret": "s1", "open": 1}, {"secret": "s2", "open": 1}]}
    )


class CountingResolves(SchemaExtension):
    seen: ClassVar[list[str]] = []

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        CountingResolves.seen.append(info.field_name)
        return _next(root, info, *args, **kwargs)


def test_an_extension_that_wraps_every_resolve_still_sees_every_field() -> None:
    CountingResolves.seen = []
    _, short = schemas(extensions=[CountingResolves])
    result = short.execute_sync("{ rows { number name } }")
    assert result.errors is None
    assert CountingResolves.seen.count("number") == len(rows())
    assert CountingResolves.seen.count("name") == len(rows())


def test_plain_fields_are_read_without_a_resolve_info_each(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    original = PlainFieldsExecutionContext.build_resolve_info

    def counting(self: Any, field_def: Any, field_nodes: Any, *args: Any) -> Any:
        built.append(field_nodes[0].name.value)
        return original(self, field_def, field_nodes, *args)

    monkeypatch.setattr(PlainFieldsExecutionContext, "build_resolve_info", counting)
    _, short = schemas()
    assert short.execute_sync("{ rows { number name } }").errors is None
    assert built == ["rows"]


@strawberry.type
class Totals:
    points: int


@strawberry.type
class WideQuery:
    @strawberry.field
    def totals(self, points: int = 0) -> list[Totals]:
        return [Totals(points=2_271_853_568), Totals(points=-(2**53 - 1)), Totals(points=points)]

    @strawberry.field
    def too_wide(self) -> Totals:
        return Totals(points=2**53)


def test_without_wide_ints_an_int_past_32_bits_is_refused_on_both_paths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(GraphQLInt, "coerce_output_value", GRAPHQL_CORE_INT)
    for execution_context_class in (None, PlainFieldsExecutionContext):
        schema = strawberry.Schema(query=WideQuery, execution_context_class=execution_context_class)
        answered = schema.execute_sync("{ totals { points } }")
        assert answered.errors is not None
        assert "32-bit" in answered.errors[0].message


def test_an_int_output_past_32_bits_is_sent_as_it_is_up_to_2_to_the_53() -> None:
    allow_wide_int_output()
    for execution_context_class in (None, PlainFieldsExecutionContext):
        schema = strawberry.Schema(query=WideQuery, execution_context_class=execution_context_class)
        answered = schema.execute_sync("{ totals(points: 7) { points } }")
        assert answered.errors is None
        assert answered.data == {
            "totals": [{"points": 2_271_853_568}, {"points": -(2**53 - 1)}, {"points": 7}]
        }
        beyond = schema.execute_sync("{ tooWide { points } }")
        assert beyond.errors is not None
        assert "32-bit" in beyond.errors[0].message
        # Inputs keep the 32-bit rule.
        refused = schema.execute_sync("{ totals(points: 2271853568) { points } }")
        assert refused.errors is not None
