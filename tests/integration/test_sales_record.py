"""An earn keeps the sale itself, for the analytics that read it later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from persistence.database import Database
from persistence.models import JournalLineRow, SaleLineRow, SaleRow
from tests.conftest import GraphQLClient
from tests.operations import create_store, earn, enroll, line
from tests.programme import add_rule, category_rate


async def set_rate(database: Database, category: str, rate: str) -> None:
    await add_rule(database, category_rate(category, rate))


async def test_an_earn_records_the_sale_and_its_lines_with_the_rates_applied(
    gql: GraphQLClient, database: Database
) -> None:
    await create_store(gql)
    await set_rate(database, "beauty", "2.5")
    customer = await enroll(gql, email="shopper@example.com")

    earned = await earn(
        gql,
        customer["id"],
        "sale-9",
        [line("3.33", 3, "grocery", "BREAD"), line("10.10", 1, "beauty", "CREAM")],
        terminalId="T7",
        saleId="R-9",
    )

    async with database.reading() as session:
        sale = (await session.execute(select(SaleRow))).scalar_one()
        lines = (await session.execute(select(SaleLineRow).order_by(SaleLineRow.line_no))).scalars()
        sale_lines = [
            (r.sku, r.category, r.quantity, r.unit_price, r.amount, r.points_per_unit)
            for r in lines
        ]
        journal = (
            await session.execute(
                select(JournalLineRow.account, JournalLineRow.amount).order_by(JournalLineRow.id)
            )
        ).all()
    # 9.99 * 1 + 10.10 * 2.5 = 35.24: 35 points, rounded down once for the sale.
    assert earned["transaction"]["points"] == 35
    assert (sale.store_id, sale.terminal_id, sale.sale_ref) == ("S1", "T7", "R-9")
    assert sale.customer_id == customer["id"]
    assert (sale.total, sale.points) == (Decimal("20.09"), 35)
    assert abs(sale.occurred_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert sale_lines == [
        ("BREAD", "grocery", 3, Decimal("3.33"), Decimal("9.99"), Decimal("1")),
        ("CREAM", "beauty", 1, Decimal("10.10"), Decimal("10.10"), Decimal("2.5")),
    ]
    assert [tuple(row) for row in journal] == [
        (f"customer:{customer['id']}", 35),
        ("programme:points-issued", -35),
    ]
