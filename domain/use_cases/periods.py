"""Use cases of the books' periods: close them before a moment, reopen them from one."""

from __future__ import annotations

from domain.periods import ChangePeriod, PeriodChange, changed
from domain.ports import UnitOfWork


async def change_period(uow: UnitOfWork, cmd: ChangePeriod) -> PeriodChange:
    """Close or reopen, once every movement in flight has committed (the lock)."""
    async with uow:
        await uow.periods.lock()
        change = changed(await uow.periods.closed_until(), cmd)
        await uow.periods.add(change)
        await uow.commit()
    return change
