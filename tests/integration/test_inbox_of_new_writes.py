"""Enrolments, guest sales and bulk award recipients leave their analytics inbox row in
the transaction that writes them: one each when committed, none when refused."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from domain.campaigns import BulkAwardPoints, Segment
from domain.customers import EnrollCustomer, Identifiers
from domain.errors import DuplicateCustomer, IdempotencyKeyReused
from domain.guests import RecordGuestSale
from domain.sales import SaleLine
from domain.use_cases import campaigns, customers, guests
from persistence.database import Database
from persistence.models import AnalyticsInboxRow
from tests.use_cases import enrolled, open_store, uow

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def inbox_rows(database: Database) -> list[tuple[str, str]]:
    async with database.reading() as session:
        rows = await session.execute(
            select(AnalyticsInboxRow.kind, AnalyticsInboxRow.ref).order_by(AnalyticsInboxRow.id)
        )
        return [(kind, ref) for kind, ref in rows.all()]


def guest_sale(key: str, price: str = "9.99") -> RecordGuestSale:
    return RecordGuestSale(
        idempotency_key=key,
        store_id="S1",
        lines=(SaleLine("A", "grocery", 1, Decimal(price)),),
        occurred_at=NOW,
        recorded_at=NOW,
    )


async def test_an_enrolment_is_enqueued_and_a_refused_one_is_not(database: Database) -> None:
    customer_id = await enrolled(database, card_number="C1")
    duplicate = EnrollCustomer(None, Identifiers(card_number="C1"), NOW)

    with pytest.raises(DuplicateCustomer):
        await customers.enroll_customer(uow(database), duplicate)

    assert await inbox_rows(database) == [("ENROLMENT", customer_id)]


async def test_a_guest_sale_is_enqueued_once_however_often_it_is_retried(
    database: Database,
) -> None:
    await open_store(database)

    first = await guests.record_guest_sale(uow(database), guest_sale("g1"))
    again = await guests.record_guest_sale(uow(database), guest_sale("g1"))
    with pytest.raises(IdempotencyKeyReused):
        await guests.record_guest_sale(uow(database), guest_sale("g1", "1.00"))

    assert again == first
    assert await inbox_rows(database) == [("GUEST_SALE", str(first.id))]


@pytest.mark.parametrize("holdout", [0, 20])
async def test_a_bulk_award_is_enqueued_once_its_recipients_are_written(
    database: Database, holdout: int
) -> None:
    ids = [await enrolled(database, card_number=f"C{n}") for n in range(3)]
    listed = BulkAwardPoints("by-ids", tuple(ids), 5, "promo", None, NOW, holdout_percent=holdout)
    segment = BulkAwardPoints(
        "by-segment", (), 5, "promo", None, NOW, segment=Segment(everyone=True)
    )

    by_ids = await campaigns.bulk_award_points(uow(database), listed)
    by_segment = await campaigns.bulk_award_points(uow(database), segment)
    await campaigns.bulk_award_points(uow(database), listed)

    holdouts = [ref for kind, ref in await inbox_rows(database) if kind == "HOLDOUT"]
    assert holdouts == [by_ids.id, by_segment.id]
