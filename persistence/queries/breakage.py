"""The totals the breakage recognised in advance is measured from (domain.breakage) at a
moment, from the trial balance's snapshots and the movements since, a stretch of one point
value at a time: never by replaying the journal. Nothing to read while no rate was ever
set."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from domain.breakage import Totals, factor
from domain.ledger import BREAKAGE, POINTS_REDEEMED
from domain.roll_forward import stretches
from domain.valuation import Valuation
from persistence.ledger_snapshots import sums_before


async def totals_before(
    session: AsyncSession, moment: datetime, books: Valuation, horizon: datetime
) -> Totals:
    """Redeemed and expired in money over the movements that happened before `moment`
    (`horizon`: before when nothing can be recorded any more, which snapshots hold)."""
    if not books.breakage_rates:
        return Totals()
    redeemed, expired = Decimal(0), Decimal(0)
    last: dict[str, int] = {}
    for _, end, price in stretches(None, moment, books.point_values, books.default_point_value):
        sums = await sums_before(session, end, horizon)
        redeemed += price * (sums.get(POINTS_REDEEMED, 0) - last.get(POINTS_REDEEMED, 0))
        expired += price * (sums.get(BREAKAGE, 0) - last.get(BREAKAGE, 0))
        last = sums
    return Totals(redeemed, expired)


async def in_advance_before(
    session: AsyncSession, moment: datetime, books: Valuation, horizon: datetime
) -> Decimal:
    """The breakage recognised in advance by the postings before `moment`: the contra
    account's balance (a debit) there."""
    totals = await totals_before(session, moment, books, horizon)
    return totals.in_advance(factor(books.breakage_rate_before(moment)))
