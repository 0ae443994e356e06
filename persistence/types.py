"""Column types that keep values exact on every backend."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import BigInteger, DateTime, Dialect, Integer, Numeric, String
from sqlalchemy.types import TypeDecorator, TypeEngine

# SQLite only autoincrements an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Money(TypeDecorator[Decimal]):
    """NUMERIC on PostgreSQL; text on SQLite, whose NUMERIC would round through a float."""

    impl = Numeric(18, 4)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[object]:
        stored = String(40) if dialect.name == "sqlite" else Numeric(18, 4)
        return dialect.type_descriptor(cast("TypeEngine[object]", stored))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> object:
        if value is None or dialect.name != "sqlite":
            return value
        return format(value, "f")

    def process_result_value(self, value: object, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """On SQLite, text to Decimal (process_result_value). PostgreSQL's drivers return
        NUMERIC as Decimal already: only the driver's own processing, if any, which saves a
        call per value (a long analytics report reads tens of thousands)."""
        if dialect.name == "sqlite":
            return super().result_processor(dialect, coltype)
        return self.impl_instance.result_processor(dialect, coltype)


class ExactPoints(Money):
    """Points before rounding: a price times a rate times a multiplier keeps 12 places."""

    impl = Numeric(36, 12)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[object]:
        stored = String(60) if dialect.name == "sqlite" else Numeric(36, 12)
        return dialect.type_descriptor(cast("TypeEngine[object]", stored))


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, also on SQLite, which keeps no offset."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass an aware UTC time")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
