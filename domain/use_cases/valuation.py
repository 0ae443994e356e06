"""Use cases of the valuation: a point value or a GL account from a moment on."""

from __future__ import annotations

from domain.ports import UnitOfWork
from domain.valuation import ValuationChange, refuse_in_closed_period


async def change_valuation(uow: UnitOfWork, change: ValuationChange) -> ValuationChange:
    """Kept, unless it would take effect inside a closed period (read under the close's
    lock, so a close and a change do not cross)."""
    async with uow:
        await uow.periods.lock()
        refuse_in_closed_period(change.effective_from, await uow.periods.closed_until())
        await uow.valuation.add(change)
        await uow.commit()
    return change
