"""Which customers have points to expire, and how many."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts import Account
from domain.expiry import ExpiryKind
from domain.ledger import TransactionKind
from persistence import lots
from persistence.models import CustomerRow, JournalEntryRow

ACTIVITY = (TransactionKind.EARN.value, TransactionKind.REDEEM.value)


def active_since(cutoff: datetime) -> ColumnElement[bool]:
    """The customer earned or redeemed after `cutoff`."""
    return exists().where(
        JournalEntryRow.customer_id == CustomerRow.id,
        JournalEntryRow.kind.in_(ACTIVITY),
        JournalEntryRow.created_at > cutoff,
    )


class SqlAlchemyExpiryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def due(self, kind: ExpiryKind, cutoff: datetime, limit: int) -> list[str]:
        if kind is ExpiryKind.EARNED:
            return await lots.earned_before(self.session, cutoff, limit)
        query = (
            select(CustomerRow.id)
            .where(CustomerRow.balance > 0, CustomerRow.enrolled_at <= cutoff)
            .where(~active_since(cutoff))
            .order_by(CustomerRow.id)
            .limit(limit)
        )
        return list((await self.session.execute(query)).scalars())

    async def points_due(self, kind: ExpiryKind, account: Account, cutoff: datetime) -> int:
        if kind is ExpiryKind.EARNED:
            return await lots.open_before(self.session, account.customer_id, cutoff)
        query = select(CustomerRow.id).where(
            CustomerRow.id == account.customer_id,
            CustomerRow.enrolled_at <= cutoff,
            ~active_since(cutoff),
        )
        inactive = (await self.session.execute(query)).first() is not None
        return account.balance if inactive else 0
