"""Expected business failures, named as facts; each carries its stable code."""

from __future__ import annotations

from enum import StrEnum

FieldPath = tuple[str, ...]


class ErrorCode(StrEnum):
    INVALID_INPUT = "INVALID_INPUT"
    DUPLICATE_STORE = "DUPLICATE_STORE"
    CUSTOMER_NOT_FOUND = "CUSTOMER_NOT_FOUND"
    DUPLICATE_CUSTOMER = "DUPLICATE_CUSTOMER"
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    REWARD_NOT_FOUND = "REWARD_NOT_FOUND"
    REWARD_INACTIVE = "REWARD_INACTIVE"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    FORBIDDEN = "FORBIDDEN"


class DomainError(Exception):
    """A failure the client caused or can act on; safe to show as it is."""

    code: ErrorCode = ErrorCode.INVALID_INPUT

    def __init__(self, message: str, field: FieldPath | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    code = ErrorCode.INVALID_INPUT


class DuplicateStore(DomainError):
    code = ErrorCode.DUPLICATE_STORE


class CustomerNotFound(DomainError):
    code = ErrorCode.CUSTOMER_NOT_FOUND


class DuplicateCustomer(DomainError):
    code = ErrorCode.DUPLICATE_CUSTOMER


class InsufficientPoints(DomainError):
    code = ErrorCode.INSUFFICIENT_POINTS


class RewardNotFound(DomainError):
    code = ErrorCode.REWARD_NOT_FOUND


class RewardInactive(DomainError):
    code = ErrorCode.REWARD_INACTIVE


class IdempotencyKeyReused(DomainError):
    code = ErrorCode.IDEMPOTENCY_KEY_REUSED


class Forbidden(DomainError):
    """The caller's role or store scope does not allow this."""

    code = ErrorCode.FORBIDDEN


REFUSAL_TYPES: dict[ErrorCode, type[DomainError]] = {
    error_type.code: error_type
    for error_type in (
        InvalidInput,
        DuplicateStore,
        CustomerNotFound,
        DuplicateCustomer,
        InsufficientPoints,
        RewardNotFound,
        RewardInactive,
        IdempotencyKeyReused,
        Forbidden,
    )
}


def refusal(code: str, message: str, field: FieldPath | None) -> DomainError:
    """Rebuild a refusal that was stored with an idempotency key."""
    return REFUSAL_TYPES[ErrorCode(code)](message, field)
