"""Limits on what one GraphQL document may ask for, each with a setting.

Strawberry limits tokens, while parsing. Depth, aliases and cost are measured
here in one pass, where each fragment is measured once however often it is
spread: a few hundred characters of nested fragment spreads must not make the
server walk millions of fields (Strawberry's own depth and alias limiters
expand every spread). Aliases count as the operation would run, spreads
expanded. Cost is 1 per field, and a paginated field multiplies what it
selects by its `first` (a variable counts as the largest page).

The rules are built once, so a document a till sends again and again is
parsed and validated once (ParserCache and ValidationCache key on the rules).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    StringValueNode,
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

from api.errors import QUERY_TOO_COMPLEX
from api.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from api.settings import Settings
from domain.errors import ErrorCode

# Paginated fields and the page size they use when `first` is not given.
PAGED_FIELDS = {"transactions": DEFAULT_PAGE_SIZE}
DOCUMENT_CACHE_SIZE = 512


def document_limits(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Factories: Strawberry makes fresh extensions for every operation."""
    rules: list[type[ASTValidationRule]] = [
        UnstorableText,
        size_limit(
            Size(
                depth=settings.max_query_depth,
                aliases=settings.max_aliases,
                cost=settings.max_query_cost,
            )
        ),
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


@dataclass(frozen=True)
class Size:
    depth: int
    aliases: int
    cost: int

    def __add__(self, other: Size) -> Size:
        """Side by side: as deep as the deeper, the aliases and costs of both."""
        return Size(
            depth=max(self.depth, other.depth),
            aliases=self.aliases + other.aliases,
            cost=self.cost + other.cost,
        )


NOTHING = Size(depth=0, aliases=0, cost=0)


class DocumentSize:
    """Depth and cost of selections, each fragment measured once (cycles count as nothing:
    the standard NoFragmentCycles rule refuses them)."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self._fragments = fragments
        self._measured: dict[str, Size] = {}
        self._measuring: set[str] = set()

    def of(self, selection_set: SelectionSetNode | None) -> Size:
        if selection_set is None:
            return NOTHING
        return sum((self._selection(s) for s in selection_set.selections), NOTHING)

    def _selection(self, selection: SelectionNode) -> Size:
        if isinstance(selection, FieldNode):
            return self._field(selection)
        if isinstance(selection, InlineFragmentNode):
            return self.of(selection.selection_set)
        if isinstance(selection, FragmentSpreadNode):
            return self._fragment(selection.name.value)
        return NOTHING

    def _field(self, field: FieldNode) -> Size:
        if field.name.value.startswith("__"):
            return NOTHING
        aliased = 1 if field.alias else 0
        if field.selection_set is None:
            return Size(depth=0, aliases=aliased, cost=1)
        inner = self.of(field.selection_set)
        return Size(
            depth=1 + inner.depth,
            aliases=aliased + inner.aliases,
            cost=1 + page_size(field) * inner.cost,
        )

    def _fragment(self, name: str) -> Size:
        if name in self._measured:
            return self._measured[name]
        if name not in self._fragments or name in self._measuring:
            return NOTHING
        self._measuring.add(name)
        size = self.of(self._fragments[name].selection_set)
        self._measuring.discard(name)
        self._measured[name] = size
        return size


class UnstorableText(ValidationRule):
    """A string in the document itself that no database stores: a NUL or a lone surrogate,
    written as a GraphQL escape (`"\\u0000"`), which the JSON check of the request never
    sees (api/view.py checks the body and the variables). Refused before anything runs."""

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if not storable(node.value):
            self.report_error(
                GraphQLError(
                    "this text cannot be stored: it holds a NUL or a lone surrogate",
                    node,
                    extensions={"code": ErrorCode.INVALID_INPUT.value},
                )
            )


def storable(text: str) -> bool:
    """No NUL, no lone surrogate (which UTF-8 cannot encode)."""
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def size_limit(limit: Size) -> type[ValidationRule]:
    class SizeLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            definitions = context.document.definitions
            measure = DocumentSize(
                {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
            )
            for definition in definitions:
                if isinstance(definition, OperationDefinitionNode):
                    size = measure.of(definition.selection_set)
                    for error in size_errors(definition, size, limit):
                        context.report_error(error)

    return SizeLimit


def size_errors(operation: OperationDefinitionNode, size: Size, limit: Size) -> list[GraphQLError]:
    name = operation.name.value if operation.name else "anonymous"
    problems = []
    if size.depth > limit.depth:
        problems.append(f"'{name}' exceeds maximum operation depth of {limit.depth}")
    if size.aliases > limit.aliases:
        problems.append(f"{size.aliases} aliases found. Allowed: {limit.aliases}")
    if size.cost > limit.cost:
        problems.append(
            f"the operation costs {size.cost}, more than the {limit.cost} allowed: "
            "ask for fewer fields or smaller pages"
        )
    return [
        GraphQLError(problem, [operation], extensions={"code": QUERY_TOO_COMPLEX})
        for problem in problems
    ]


def page_size(field: FieldNode) -> int:
    for argument in field.arguments or ():
        if argument.name.value != "first":
            continue
        if isinstance(argument.value, IntValueNode):
            return max(0, min(int(argument.value.value), MAX_PAGE_SIZE))
        return MAX_PAGE_SIZE
    return PAGED_FIELDS.get(field.name.value, 1)
