"""Per-request loaders of the customers feature: customers by id, and what expires next."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from api.loaders import batched
from domain.customers import Customer
from domain.expiry import Expiring, ExpiryPolicy
from persistence.database import Database
from persistence.queries.customers import customers_by_ids
from persistence.queries.expiry import expiring_next

CustomersLoader = DataLoader[str, Customer | None]
# Keyed by the customer and the balance it shows: what expires is never more than that.
ExpiringLoader = DataLoader[tuple[str, int], Expiring | None]


def customers_loader(database: Database) -> CustomersLoader:
    return batched(database, customers_by_ids, None)


def expiring_loader(database: Database, policy: ExpiryPolicy) -> ExpiringLoader:
    async def read(
        session: AsyncSession, keys: Sequence[tuple[str, int]]
    ) -> dict[tuple[str, int], Expiring]:
        found = await expiring_next(session, dict(keys), policy)
        return {key: found[key[0]] for key in keys if key[0] in found}

    return batched(database, read, None)
