"""Use cases of the customers: enrolment, and finding a customer's account."""

from __future__ import annotations

import uuid
from typing import TypeVar

from domain.accounts import Account
from domain.customers import Customer, EnrollCustomer
from domain.errors import CustomerNotFound
from domain.ports import UnitOfWork

FoundT = TypeVar("FoundT")


async def enroll_customer(uow: UnitOfWork, cmd: EnrollCustomer) -> Customer:
    customer_id = str(uuid.uuid4())
    customer = Customer(
        id=customer_id,
        name=cmd.name,
        identifiers=cmd.identifiers,
        account=Account(customer_id, balance=0, balance_version=0, lifetime_earned=0),
        enrolled_at=cmd.enrolled_at,
        enrolled_by_staff=cmd.enrolled_by_staff,
        enrolled_store_id=cmd.enrolled_store_id,
    )
    async with uow:
        await uow.customers.add(customer)
        await uow.commit()
    return customer


async def find_customer(uow: UnitOfWork, customer_id: str) -> Customer:
    return known_customer(customer_id, await uow.customers.get(customer_id))


async def lock_account(uow: UnitOfWork, customer_id: str) -> Account:
    """The customer's account, locked against other writers until the unit of work ends."""
    return known_customer(customer_id, await uow.customers.lock_account(customer_id))


async def current_account(uow: UnitOfWork, customer_id: str | None) -> Account | None:
    """The account as it stands, unlocked, when a customer is named."""
    if customer_id is None:
        return None
    return known_customer(customer_id, await uow.customers.account(customer_id))


def known_customer(customer_id: str, found: FoundT | None) -> FoundT:
    """What was found of the customer; CustomerNotFound when nothing was."""
    if found is None:
        raise CustomerNotFound(f"no customer {customer_id}", ("input", "customerId"))
    return found
