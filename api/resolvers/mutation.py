"""Mutations: each one use case in one unit of work; failures come back as userErrors."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.types.bulk_awards import BulkAward, BulkAwardInput
from api.types.customers import Customer
from api.types.inputs import (
    CreateStoreInput,
    EarnPointsInput,
    EnrollCustomerInput,
    RedeemPointsInput,
)
from api.types.payloads import (
    BulkAwardPayload,
    EnrollCustomerPayload,
    PointsPayload,
    Store,
    StorePayload,
)
from domain import services
from domain.errors import DomainError
from persistence.queries import CustomerView, TransactionView


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description='Register a store; its id is the chain\'s own store code (e.g. "S001").'
    )
    async def create_store(self, info: Info, input: CreateStoreInput) -> StorePayload:
        try:
            store = await services.create_store(info.context.uow(), input.to_command())
        except DomainError as error:
            return StorePayload.failed(error)
        return StorePayload(store=Store.of(store))

    @strawberry.mutation
    async def enroll_customer(
        self, info: Info, input: EnrollCustomerInput
    ) -> EnrollCustomerPayload:
        context = info.context
        try:
            command = input.to_command(context.now(), context.settings.default_phone_region)
            customer = await services.enroll_customer(context.uow(), command)
        except DomainError as error:
            return EnrollCustomerPayload.failed(error)
        return EnrollCustomerPayload(customer=Customer.of(CustomerView.of(customer)))

    @strawberry.mutation(
        description="Award points for a sale, computed by the earning rules from its lines."
    )
    async def earn_points(self, info: Info, input: EarnPointsInput) -> PointsPayload:
        context = info.context
        try:
            result = await services.earn_points(
                context.uow(),
                input.to_command(context.now()),
                context.settings.base_points_per_unit,
            )
        except DomainError as error:
            return PointsPayload.failed(error)
        return PointsPayload.succeeded(TransactionView.of(result.posted))

    @strawberry.mutation(description="Spend points, on a catalog reward or as a number of points.")
    async def redeem_points(self, info: Info, input: RedeemPointsInput) -> PointsPayload:
        try:
            command = input.to_command(info.context.now())
            result = await services.redeem_points(info.context.uow(), command)
        except DomainError as error:
            return PointsPayload.failed(error)
        return PointsPayload.succeeded(TransactionView.of(result.posted))

    @strawberry.mutation(
        description="Award the same points to many customers at once (promotions)."
    )
    async def bulk_award_points(self, info: Info, input: BulkAwardInput) -> BulkAwardPayload:
        try:
            job = await services.bulk_award_points(
                info.context.uow(), input.to_command(info.context.now())
            )
        except DomainError as error:
            return BulkAwardPayload.failed(error)
        info.context.services.worker.wake()
        return BulkAwardPayload(bulk_award=BulkAward.of(job))
