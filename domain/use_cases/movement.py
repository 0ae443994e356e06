"""The opening and the close every movement of points shares, written once.

Earn, redeem, adjust, checkout and refund each run in one unit of work that
opens the same way: claim the request's idempotency key (a retry gets the
entry the key produced, or its refusal again), check the store, lock the
customer's account. Each posts its entry with the key bound to it; a refusal
for want of points is kept with the key, so a retry stays refused even after
the customer earns more.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from domain.accounts import Account
from domain.errors import IdempotencyKeyReused, InsufficientPoints, refusal
from domain.events import BalanceChanged
from domain.idempotency import StoredOutcome
from domain.ledger import JournalEntry, PostedEntry
from domain.points import MovementCommand
from domain.ports import UnitOfWork
from domain.use_cases.customers import known_customer
from domain.use_cases.stores import require_store


async def open_movement(
    uow: UnitOfWork, cmd: MovementCommand, customer_id: str
) -> Account | PostedEntry:
    """In the movement's unit of work: the customer's locked account for a new request, or
    the entry a retry's key produced the first time. The store is checked after the lock
    statement, which reads the programme's version beside the customer: the store comes
    from the cache it validates (an unknown store is still refused before an unknown
    customer)."""
    replayed = await _claimed(uow, cmd)
    if replayed is not None:
        return replayed
    account = await uow.customers.lock_account(customer_id)
    await require_store(uow, cmd.store_id)
    return known_customer(customer_id, account)


async def claim_movement(uow: UnitOfWork, cmd: MovementCommand) -> PostedEntry | None:
    """Claim the request's key and check its store; a retry gets the entry the key produced
    (None: a new request, whose customer is locked next)."""
    replayed = await _claimed(uow, cmd)
    if replayed is None:
        await require_store(uow, cmd.store_id)
    return replayed


async def _claimed(uow: UnitOfWork, cmd: MovementCommand) -> PostedEntry | None:
    previous = await uow.idempotency.claim(cmd.idempotency_key, cmd.fingerprint())
    if previous is None:
        return None
    return await _first_answer(uow, previous, cmd.fingerprint())


async def _first_answer(uow: UnitOfWork, previous: StoredOutcome, fingerprint: str) -> PostedEntry:
    """A retry gets the first answer back; a different request under the same key, a refusal."""
    if previous.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "this idempotencyKey was used for a different request", ("input", "idempotencyKey")
        )
    if previous.entry_id is None:
        raise refusal(
            str(previous.refusal_code), str(previous.refusal_message), previous.refusal_field
        )
    posted = await uow.journal.get(previous.entry_id)
    assert posted is not None, "an idempotency record points at a missing journal entry"
    return posted


@asynccontextmanager
async def refusal_kept(uow: UnitOfWork, cmd: MovementCommand) -> AsyncIterator[None]:
    """A movement the customer's points cannot cover is refused, and stays refused."""
    try:
        yield
    except InsufficientPoints as refused:
        await uow.idempotency.refuse(cmd.idempotency_key, refused)
        await uow.commit()
        raise


async def post(uow: UnitOfWork, account: Account, entry: JournalEntry) -> PostedEntry:
    """The account as it now stands and its journal entry; subscribers hear of a change."""
    await uow.customers.save_account(account)
    posted = await uow.journal.add(entry)
    if entry.points:
        uow.record(BalanceChanged(posted))
    return posted


async def post_once(uow: UnitOfWork, account: Account, entry: JournalEntry) -> PostedEntry:
    """Post the entry and bind it to the idempotency key claimed in this unit of work."""
    posted = await post(uow, account, entry)
    await uow.idempotency.complete(str(entry.movement.idempotency_key), posted.id)
    return posted
