"""Per-request loaders of the points feature: sale breakdowns by transaction."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from api.loaders import batched
from domain.points import SaleBreakdown
from persistence.database import Database
from persistence.queries.points import sale_breakdowns

BreakdownsLoader = DataLoader[int, SaleBreakdown | None]


def breakdowns_loader(database: Database) -> BreakdownsLoader:
    return batched(database, sale_breakdowns, None)
