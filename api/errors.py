"""What a client may see of a failure, and what is masked."""

from __future__ import annotations

import logging

from graphql import GraphQLError

from domain.errors import DomainError, ErrorCode

logger = logging.getLogger(__name__)

MASKED_MESSAGE = "Unexpected error."

# Codes of top-level errors beside the contract's ErrorCode values.
UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = ErrorCode.FORBIDDEN.value
RATE_LIMITED = "RATE_LIMITED"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"


class ClientError(GraphQLError):
    """A top-level error meant for the client that is no domain error: a missing token, a
    role the policy refuses."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, extensions={"code": code})


def client_extensions(error: DomainError) -> dict[str, object]:
    """How a domain error raised outside a mutation reaches the client: its code, and the
    field at fault when it names one."""
    extensions: dict[str, object] = {"code": error.code.value}
    if error.field:
        extensions["field"] = list(error.field)
    return extensions


def should_mask(error: GraphQLError) -> bool:
    """Mask everything that came from our code unless it was raised for the client.

    Errors without an original error are the parser's and validator's, about the
    document the client sent; they name nothing internal.
    """
    original = error.original_error
    if original is None:
        return False
    # GraphQL errors are raised for the client: ours, and graphql-core's own about the
    # document and its variables (a null for a non-null variable, an Int out of range).
    return not isinstance(original, GraphQLError | DomainError)
