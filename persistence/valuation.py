"""The point values, GL accounts and expected breakage rates admins set, kept as rows never
changed, read back as the valuation over time (a few rows: read whole)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.valuation import Effective, GlAccount, GlRole, Valuation, ValuationChange
from persistence.models import ValuationChangeRow
from persistence.records import actor_columns, actor_of


class SqlAlchemyValuationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, change: ValuationChange) -> None:
        account = change.account
        values = {
            "effective_from": change.effective_from,
            "point_value": change.point_value,
            "role": None if account is None else account.role.value,
            "code": None if account is None else account.code,
            "name": None if account is None else account.name,
            "breakage_rate": change.breakage_rate,
            "at": change.at,
            **actor_columns("changed_by", change.actor),
        }
        await self.session.execute(insert(ValuationChangeRow).values(values))


async def changes(session: AsyncSession) -> list[ValuationChange]:
    """Every change in the order made."""
    rows = await session.scalars(select(ValuationChangeRow).order_by(ValuationChangeRow.id))
    return [_change_of(row) for row in rows]


async def valuation(session: AsyncSession, default_point_value: Decimal) -> Valuation:
    """Each kind of change sorted by when it takes effect (a later change of the same moment
    wins: it was made later)."""
    made = await changes(session)
    by_moment = sorted(made, key=lambda change: change.effective_from)
    return Valuation(
        default_point_value,
        tuple(
            Effective(c.effective_from, c.point_value)
            for c in by_moment
            if c.point_value is not None
        ),
        tuple(Effective(c.effective_from, c.account) for c in by_moment if c.account is not None),
        tuple(
            Effective(c.effective_from, c.breakage_rate)
            for c in by_moment
            if c.breakage_rate is not None
        ),
    )


def _change_of(row: ValuationChangeRow) -> ValuationChange:
    actor = actor_of(row, "changed_by")
    assert actor is not None, "a valuation change is always made by someone"
    account = None
    if row.role is not None and row.code is not None and row.name is not None:
        account = GlAccount(GlRole(row.role), row.code, row.name)
    return ValuationChange(
        row.effective_from, actor, row.at, row.point_value, account, row.breakage_rate
    )
