"""Types shared by every payload: user errors and page info."""

from __future__ import annotations

import strawberry

from domain.errors import DomainError
from domain.errors import ErrorCode as DomainErrorCode
from domain.ledger import TransactionKind as DomainTransactionKind

__all__ = ["DomainErrorCode", "DomainTransactionKind", "PageInfo", "UserError"]

# The domain's enums are the GraphQL enums: one list of codes and kinds, not two.
strawberry.enum(DomainErrorCode, name="ErrorCode")
strawberry.enum(DomainTransactionKind, name="TransactionKind")


@strawberry.type(
    description="An expected business failure, returned as data. "
    "code is stable; message is for people."
)
class UserError:
    code: DomainErrorCode
    message: str
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, e.g. ["input", "lines", "0", "quantity"].'
    )

    @classmethod
    def of(cls, error: DomainError) -> UserError:
        return cls(
            code=error.code,
            message=error.message,
            field=None if error.field is None else list(error.field),
        )


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
