"""The customers feature's fields: look a customer up, enrol one."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.customers.types import Customer, CustomerLookup, EnrollCustomerInput, EnrollCustomerPayload
from api.mutations import mutation
from api.permissions import GUARDED
from domain.use_cases import customers
from persistence.queries.customers import customer_by


@strawberry.type
class CustomerQueries:
    @strawberry.field(
        description="Look a customer up by exactly one identifier; null when none matches.",
        permission_classes=GUARDED,
    )
    async def customer(self, info: Info, lookup: CustomerLookup) -> Customer | None:
        identifier, value = lookup.identifier(info.context.settings.default_phone_region)
        found = await customer_by(info.context.database, identifier, value)
        return None if found is None else Customer.of(found)


@strawberry.type
class CustomerMutations:
    @mutation()
    async def enroll_customer(
        self, info: Info, input: EnrollCustomerInput
    ) -> EnrollCustomerPayload:
        context = info.context
        store_id = None if context.principal is None else context.principal.only_store
        command = input.to_command(
            context.now(), context.settings.default_phone_region, context.actor(), store_id
        )
        customer = await customers.enroll_customer(context.uow(), command)
        return EnrollCustomerPayload(customer=Customer.of(customer))
