"""The reconciliation worker: the books checked every interval, the result logged (a
failing check at ERROR, naming what it compared and the difference)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from domain.reconciliation import Reconciliation
from persistence.queries.reconciliation import Bounds, reconciliation
from workers.base import Worker

logger = logging.getLogger(__name__)


@dataclass
class ReconciliationWorker(Worker):
    interval_seconds: float
    bounds: Bounds

    async def run(self) -> None:
        while self.running:
            await self.pause(self.interval_seconds)
            if not self.running:
                return
            try:
                log_reconciliation(await self.reconcile())
            except Exception:
                logger.exception("reconciling the books failed; it will run again")

    async def reconcile(self) -> Reconciliation:
        async with self.database.reading() as session:
            return await reconciliation(session, self.clock(), self.bounds)


def log_reconciliation(books: Reconciliation) -> None:
    for check in books.checks:
        if not check.holds:
            logger.error(
                "reconciliation: %s does not hold, %s points apart: %s",
                check.name,
                check.difference,
                check.detail,
            )
    if books.balanced:
        logger.info("reconciliation: the books balance (%s checks)", len(books.checks))
