"""Use cases of guest sales: a non-member's sale, recorded once under its key."""

from __future__ import annotations

from domain.errors import IdempotencyKeyReused
from domain.guests import GuestSale, RecordGuestSale
from domain.ports import UnitOfWork
from domain.use_cases.stores import require_store


async def record_guest_sale(uow: UnitOfWork, cmd: RecordGuestSale) -> GuestSale:
    """The sale the key recorded: this one when the key is new, the first one on a retry."""
    async with uow:
        # Before the key is claimed: a sale names a store that exists.
        await require_store(uow, cmd.store_id)
        sale, fingerprint = await uow.guest_sales.record(cmd, cmd.fingerprint())
        if fingerprint != cmd.fingerprint():
            raise IdempotencyKeyReused(
                "this idempotencyKey was used for a different guest sale",
                ("input", "idempotencyKey"),
            )
        await uow.commit()
    return sale
