"""enrollCustomer keeps who enrolled the customer (the token's staff id) and where (the
token's store when it names exactly one), for the staff view of analytics."""

from __future__ import annotations

import pytest

from api.auth import Role
from api.settings import Settings
from persistence.database import Database
from persistence.models import CustomerRow
from tests.conftest import GraphQLClient, mint
from tests.operations import enroll


async def enrolled_by(database: Database, customer_id: str) -> tuple[str | None, str | None]:
    async with database.reading() as session:
        row = await session.get(CustomerRow, customer_id)
    assert row is not None
    return row.enrolled_by_staff, row.enrolled_store_id


async def test_a_manager_of_one_store_enrols_in_that_store(
    gql: GraphQLClient, database: Database, settings: Settings
) -> None:
    manager = gql.with_token(mint(settings, Role.MANAGER, stores=("S1",), staff="mgr-ann"))

    customer = await enroll(manager, email="new@example.com")

    assert await enrolled_by(database, customer["id"]) == ("mgr-ann", "S1")


@pytest.mark.parametrize(
    "caller",
    [(Role.CASHIER, ("S1", "S2"), "cashier-bo"), (Role.ADMIN, (), "admin-cy")],
    ids=["two stores", "admin"],
)
async def test_a_token_naming_no_single_store_enrols_in_no_store(
    gql: GraphQLClient,
    database: Database,
    settings: Settings,
    caller: tuple[Role, tuple[str, ...], str],
) -> None:
    role, stores, staff = caller
    client = gql.with_token(mint(settings, role, stores=stores, staff=staff))

    customer = await enroll(client, email=f"{staff}@example.com")

    assert await enrolled_by(database, customer["id"]) == (staff, None)
