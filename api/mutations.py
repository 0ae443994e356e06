"""How every mutation is declared and how it fails: guarded by the role policy, and with
the domain's errors turned into its payload's userErrors in this one place (as Saleor's
BaseMutation does), never in a try/except per resolver."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions.field_extension import AsyncExtensionResolver, FieldExtension
from strawberry.types.field import StrawberryField

from api.context import Info
from api.permissions import GUARDED
from domain.errors import DomainError
from domain.errors import ErrorCode as DomainErrorCode

# The domain's codes are the GraphQL enum: one list of codes, not two.
strawberry.enum(DomainErrorCode, name="ErrorCode")


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


class UserErrorsAsPayload(FieldExtension):
    """A mutation that raises a domain error answers with its payload type, holding the
    error as its one userError and nothing else: nothing was changed."""

    def apply(self, field: StrawberryField) -> None:
        self.field = field

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except DomainError as error:
            payload: Any = self.field.type
            return payload(user_errors=[UserError.of(error)])


def mutation(description: str | None = None) -> Any:
    """A mutation field: only roles in the policy may call it, and its domain errors come
    back as userErrors."""
    return strawberry.mutation(
        description=description,
        permission_classes=GUARDED,
        extensions=[UserErrorsAsPayload()],
    )
