"""Limits on what one GraphQL document may ask for, each with a setting.

Strawberry's own extensions limit depth, tokens and aliases; the cost rule
here adds up fields, where a paginated field multiplies what it selects by
its `first` (a variable counts as the largest page allowed).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from api.errors import QUERY_TOO_COMPLEX
from api.settings import Settings
from api.types.customers import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

# Paginated fields and the page size they use when `first` is not given.
PAGED_FIELDS = {"transactions": DEFAULT_PAGE_SIZE}

Fragments = dict[str, FragmentDefinitionNode]


def document_limits(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Factories: Strawberry makes fresh extensions for every operation."""
    cost_rule = cost_limit(settings.max_query_cost)
    limits: list[Callable[[], SchemaExtension]] = [
        partial(QueryDepthLimiter, max_depth=settings.max_query_depth),
        partial(MaxTokensLimiter, max_token_count=settings.max_query_tokens),
        partial(MaxAliasesLimiter, max_alias_count=settings.max_aliases),
        partial(AddValidationRules, [cost_rule]),
    ]
    if settings.is_production:
        limits.append(DisableIntrospection)
    return limits


def cost_limit(max_cost: int) -> type[ValidationRule]:
    class CostLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            fragments = {
                definition.name.value: definition
                for definition in context.document.definitions
                if isinstance(definition, FragmentDefinitionNode)
            }
            for definition in context.document.definitions:
                if isinstance(definition, OperationDefinitionNode):
                    cost = selection_cost(definition.selection_set, fragments, frozenset())
                    if cost > max_cost:
                        context.report_error(too_costly(definition, cost, max_cost))

    return CostLimit


def too_costly(operation: OperationDefinitionNode, cost: int, max_cost: int) -> GraphQLError:
    return GraphQLError(
        f"the operation costs {cost}, more than the {max_cost} allowed: ask for fewer fields "
        "or smaller pages",
        [operation],
        extensions={"code": QUERY_TOO_COMPLEX},
    )


def selection_cost(
    selection_set: SelectionSetNode | None, fragments: Fragments, seen: frozenset[str]
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += field_cost(selection, fragments, seen)
        elif isinstance(selection, InlineFragmentNode):
            total += selection_cost(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:
                total += selection_cost(fragments[name].selection_set, fragments, seen | {name})
    return total


def field_cost(field: FieldNode, fragments: Fragments, seen: frozenset[str]) -> int:
    if field.name.value.startswith("__"):
        return 0
    return 1 + page_size(field) * selection_cost(field.selection_set, fragments, seen)


def page_size(field: FieldNode) -> int:
    for argument in field.arguments or ():
        if argument.name.value != "first":
            continue
        if isinstance(argument.value, IntValueNode):
            return max(0, min(int(argument.value.value), MAX_PAGE_SIZE))
        return MAX_PAGE_SIZE
    return PAGED_FIELDS.get(field.name.value, 1)
