"""Use case of expiry: a batch of customers whose points are due, expired once."""

from __future__ import annotations

from datetime import datetime

from domain.events import BalanceChanged
from domain.expiry import ExpiryKind, ExpiryPolicy
from domain.ledger import JournalEntry, Movement
from domain.ports import UnitOfWork


async def expire_points(
    uow: UnitOfWork, policy: ExpiryPolicy, now: datetime, batch_size: int
) -> int:
    """Expire the due points of up to `batch_size` customers in one transaction; returns how
    many customers were looked at (0: none is due, or other workers hold them all).

    Customers are locked and skipped when another worker holds them, and what is due is
    worked out again under the lock, so any number of processes may run this at once and
    running it twice expires nothing more.
    """
    if policy.kind is ExpiryKind.NEVER:
        return 0
    cutoff = policy.cutoff(now)
    async with uow:
        candidates = await uow.expiry.due(policy.kind, cutoff, batch_size)
        if not candidates:
            return 0
        accounts = await uow.customers.lock_accounts(candidates, skip_locked=True)
        movement = Movement(None, None, None, None, now, None, policy.reason(now))
        entries: list[JournalEntry] = []
        for locked in list(accounts.values()):
            points = await uow.expiry.points_due(policy.kind, locked, cutoff)
            if points > 0:
                expired, entry = locked.expire(points, movement)
                accounts[expired.customer_id] = expired
                entries.append(entry)
        posted = await uow.journal.add_many(entries)
        await uow.customers.save_accounts([accounts[e.customer_id] for e in entries])
        for item in posted:
            uow.record(BalanceChanged(item))
        await uow.commit()
    return len(accounts)
