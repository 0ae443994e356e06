"""Limits on what one GraphQL document may ask for, each with a setting.

Strawberry's own extensions limit depth, tokens and aliases; the cost rule
here adds up fields, where a paginated field multiplies what it selects by
its `first` (a variable counts as the largest page allowed).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from graphql import (
    ASTValidationRule,
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
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_limit
from strawberry.extensions.query_depth_limiter import create_validator as depth_limit

from api.errors import QUERY_TOO_COMPLEX
from api.settings import Settings
from api.types.customers import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

# Paginated fields and the page size they use when `first` is not given.
PAGED_FIELDS = {"transactions": DEFAULT_PAGE_SIZE}
DOCUMENT_CACHE_SIZE = 512

Fragments = dict[str, FragmentDefinitionNode]


def document_limits(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Factories: Strawberry makes fresh extensions for every operation.

    The validation rules are made once, so that a document a till sends again and
    again is parsed and validated once (ParserCache, ValidationCache: their caches are
    keyed by the rules)."""
    rules: list[type[ASTValidationRule]] = [
        depth_limit(max_depth=settings.max_query_depth, callback=None, should_ignore=None),
        alias_limit(settings.max_aliases),
        cost_limit(settings.max_query_cost),
    ]
    limits: list[Callable[[], SchemaExtension]] = [
        partial(MaxTokensLimiter, max_token_count=settings.max_query_tokens),
        partial(AddValidationRules, rules),
        partial(ParserCache, maxsize=DOCUMENT_CACHE_SIZE),
        partial(ValidationCache, maxsize=DOCUMENT_CACHE_SIZE),
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
