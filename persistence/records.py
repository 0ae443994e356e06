"""Rows to domain records and back, by name: a column stores the field of the same name.

Only what is stored differently is spelt out (an enum as its text, a set as a
comma-separated list, who acted as three columns), so a record is not copied
field by field a second time here.
"""

from __future__ import annotations

from dataclasses import fields
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from domain.ledger import Actor

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

RecordT = TypeVar("RecordT", bound="DataclassInstance")


def record_of(record_type: type[RecordT], row: object, /, **stored_differently: object) -> RecordT:
    """A `record_type` from the row's attributes of its fields' names, but for those given."""
    return record_type(**values_of(record_type, row, **stored_differently))


def values_of(
    record_type: type[DataclassInstance], row: object, /, **stored_differently: object
) -> dict[str, Any]:
    """Every field of `record_type`, by name: from the row's attributes, but for those given."""
    _refuse_unknown(record_type, frozenset(stored_differently))
    return {
        name: stored_differently[name] if name in stored_differently else getattr(row, name)
        for name in _field_names(record_type)
    }


def columns_of(
    record: DataclassInstance, /, *, left_out: tuple[str, ...] = (), **stored_differently: object
) -> dict[str, Any]:
    """The record's fields as column values, by name, but for those given or left out."""
    _refuse_unknown(type(record), frozenset(left_out))
    # vars(), not getattr() by name: a record's fields are its attributes, and the journal
    # maps thousands of entries a second.
    values = {name: value for name, value in vars(record).items() if name not in left_out}
    return values | stored_differently


@cache
def _field_names(record_type: type[DataclassInstance]) -> tuple[str, ...]:
    """The fields a record is made of, in order (read once per type: the journal maps
    thousands of entries a second)."""
    return tuple(field.name for field in fields(record_type) if field.init)


@cache
def _refuse_unknown(record_type: type[DataclassInstance], given: frozenset[str]) -> None:
    """A name that is no field of the record is a mistake, not a column to skip quietly
    (checked once per record type and set of names)."""
    unknown = sorted(given - set(_field_names(record_type)))
    if unknown:
        raise TypeError(f"{record_type.__name__} has no field {', '.join(unknown)}")


def joined(values: frozenset[str] | frozenset[int]) -> str | None:
    """A set kept in one text column, sorted; none is NULL."""
    return ",".join(sorted(str(value) for value in values)) or None


def split(text: str | None) -> frozenset[str]:
    return frozenset(text.split(",")) if text else frozenset()


def actor_columns(prefix: str, actor: Actor | None) -> dict[str, str | None]:
    """Who acted, as the `<prefix>_staff`, `_role` and `_terminal` columns."""
    return {
        f"{prefix}_staff": None if actor is None else actor.staff_id,
        f"{prefix}_role": None if actor is None else actor.role,
        f"{prefix}_terminal": None if actor is None else actor.terminal_id,
    }


def actor_of(row: object, prefix: str) -> Actor | None:
    staff_id = getattr(row, f"{prefix}_staff")
    role = getattr(row, f"{prefix}_role")
    if staff_id is None or role is None:
        return None
    return Actor(staff_id=staff_id, role=role, terminal_id=getattr(row, f"{prefix}_terminal"))
