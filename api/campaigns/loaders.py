"""Per-request loaders of the campaigns feature: the customers a bulk award missed."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from strawberry.dataloader import DataLoader

from api.loaders import batched
from domain.campaigns import RecipientFailure
from persistence.database import Database
from persistence.queries.campaigns import bulk_award_failures

MAX_FAILURES_LISTED = 1000

FailuresLoader = DataLoader[str, Sequence[RecipientFailure]]


def failures_loader(database: Database) -> FailuresLoader:
    read = partial(bulk_award_failures, limit=MAX_FAILURES_LISTED)
    return batched(database, read, ())
