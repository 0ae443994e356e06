"""The guest sales feature's field: record a non-member's sale, in a store of the caller."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.guests.inputs import RecordGuestSaleInput
from api.guests.types import GuestSale, RecordGuestSalePayload
from api.mutations import mutation
from api.permissions import require_scope
from domain.use_cases import guests


@strawberry.type
class GuestMutations:
    @mutation(
        "Record the sale of a shopper who is not a member (no customer, no points), so "
        "analytics can compare members with non-members."
    )
    async def record_guest_sale(
        self, info: Info, input: RecordGuestSaleInput
    ) -> RecordGuestSalePayload:
        require_scope(info, str(input.store_id))
        command = input.to_command(info.context.received(), info.context.actor())
        sale = await guests.record_guest_sale(info.context.uow(), command)
        return RecordGuestSalePayload(guest_sale=GuestSale.of(sale))
