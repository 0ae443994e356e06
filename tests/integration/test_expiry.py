"""Points expiry: old lots expire once, oldest points are spent first, inactivity takes the
whole balance, and the journal and the lots still agree with every balance afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from api import cli
from api.app import create_app
from api.auth import Role
from api.settings import Settings
from domain.campaigns import BulkAwardPoints
from domain.expiry import ExpiryKind, ExpiryPolicy, months_after
from domain.ledger import BREAKAGE, TransactionKind, customer_account
from domain.programme import Terms
from domain.sales import SaleLine
from domain.use_cases import campaigns, expiry
from domain.use_cases.points import earn_points, redeem_points, refund_sale
from persistence.database import Database
from persistence.models import CustomerRow, JournalEntryRow, JournalLineRow, PointLotRow
from tests import use_cases
from tests.conftest import GraphQLClient, mint
from tests.use_cases import earning, open_store, redeeming, refunding, uow

T0 = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
EARNED = ExpiryPolicy(ExpiryKind.EARNED, 12)
INACTIVITY = ExpiryPolicy(ExpiryKind.INACTIVITY, 12)
NEVER = ExpiryPolicy(ExpiryKind.NEVER, 12)
TERMS = Terms(expiry=EARNED)

EXPIRING = """
query($id: ID!) { customer(lookup: {id: $id}) { balance pointsExpiringNext pointsExpireAt } }"""


def month(n: int) -> datetime:
    """`n` months after T0 (the programme's month arithmetic)."""
    return months_after(T0, n)


@pytest.fixture
async def shop(database: Database) -> Database:
    """The database with store S1, where every sale of these tests happens."""
    await open_store(database)
    return database


async def enrolled(database: Database, card: str, at: datetime = T0) -> str:
    return await use_cases.enrolled(database, at, card_number=card)


async def earned(database: Database, customer_id: str, points: int, at: datetime) -> int:
    """A sale earning `points` at `at`; returns its EARN entry's id."""
    lines = (SaleLine("A", "grocery", 1, Decimal(points)),)
    key = f"earn-{customer_id}-{at.isoformat()}-{points}"
    result = await earn_points(uow(database), earning(customer_id, key, lines, at), TERMS)
    assert result.posted.entry.points == points
    return result.posted.id


async def redeemed(database: Database, customer_id: str, points: int, at: datetime) -> None:
    key = f"redeem-{customer_id}-{at.isoformat()}-{points}"
    await redeem_points(uow(database), redeeming(customer_id, key, points, at), TERMS)


async def awarded(database: Database, customer_id: str, points: int, at: datetime) -> None:
    command = BulkAwardPoints(f"award-{customer_id}", (customer_id,), points, "promo", None, at)
    await campaigns.bulk_award_points(uow(database), command)
    assert await campaigns.award_next_batch(uow(database), 10, at) == 1


async def expire(database: Database, policy: ExpiryPolicy, now: datetime) -> int:
    return await expiry.expire_points(uow(database), policy, now, 100)


async def entries(database: Database, customer_id: str, kind: TransactionKind) -> list[int]:
    """The points of the customer's entries of one kind, oldest first."""
    async with database.reading() as session:
        query = (
            select(JournalEntryRow.points)
            .where(JournalEntryRow.customer_id == customer_id, JournalEntryRow.kind == kind.value)
            .order_by(JournalEntryRow.id)
        )
        return list((await session.execute(query)).scalars())


async def balance(database: Database, customer_id: str) -> int:
    async with database.reading() as session:
        found = await session.scalar(
            select(CustomerRow.balance).where(CustomerRow.id == customer_id)
        )
    assert found is not None
    return found


async def lines_total(database: Database, account_pattern: str) -> int:
    """The sum of the journal lines of the accounts LIKE the pattern."""
    async with database.reading() as session:
        total = await session.scalar(
            select(func.coalesce(func.sum(JournalLineRow.amount), 0)).where(
                JournalLineRow.account.like(account_pattern)
            )
        )
    return int(total or 0)


async def open_lots(database: Database, customer_id: str) -> list[int]:
    """What is left of each of the customer's lots, oldest first."""
    async with database.reading() as session:
        query = (
            select(PointLotRow.remaining)
            .where(PointLotRow.customer_id == customer_id)
            .order_by(PointLotRow.earned_at, PointLotRow.id)
        )
        return list((await session.execute(query)).scalars())


async def expiry_lines(database: Database, customer_id: str) -> list[tuple[str, int]]:
    async with database.reading() as session:
        query = (
            select(JournalLineRow.account, JournalLineRow.amount)
            .join(JournalEntryRow, JournalEntryRow.id == JournalLineRow.entry_id)
            .where(JournalEntryRow.customer_id == customer_id, JournalEntryRow.kind == "EXPIRE")
            .order_by(JournalLineRow.account)
        )
        return [(account, amount) for account, amount in (await session.execute(query)).all()]


async def test_points_earned_thirteen_months_ago_expire_to_breakage_and_eleven_months_do_not(
    shop: Database,
) -> None:
    old, recent = await enrolled(shop, "OLD"), await enrolled(shop, "RECENT")
    await earned(shop, old, 100, month(0))
    await earned(shop, recent, 100, month(2))

    looked_at = await expire(shop, EARNED, month(13))

    assert looked_at == 1
    assert await entries(shop, old, TransactionKind.EXPIRE) == [-100]
    assert await balance(shop, old) == 0
    assert await expiry_lines(shop, old) == [(customer_account(old), -100), (BREAKAGE, 100)]
    assert await entries(shop, recent, TransactionKind.EXPIRE) == []
    assert await balance(shop, recent) == 100
    assert await lines_total(shop, BREAKAGE) == 100


async def test_running_expiry_again_expires_nothing_more(shop: Database) -> None:
    customer = await enrolled(shop, "TWICE")
    await earned(shop, customer, 100, month(0))
    await earned(shop, customer, 40, month(10))

    first = await expire(shop, EARNED, month(13))
    second = await expire(shop, EARNED, month(13).replace(day=20))

    assert (first, second) == (1, 0)
    assert await entries(shop, customer, TransactionKind.EXPIRE) == [-100]
    assert await balance(shop, customer) == 40
    assert await open_lots(shop, customer) == [0, 40]


async def test_a_redemption_spends_the_oldest_lot_first_so_the_newer_one_expires_later(
    shop: Database,
) -> None:
    customer = await enrolled(shop, "FIFO")
    await earned(shop, customer, 100, month(0))
    await earned(shop, customer, 100, month(6))
    await redeemed(shop, customer, 150, month(7))

    at_thirteen = await expire(shop, EARNED, month(13))
    expired_at_thirteen = await entries(shop, customer, TransactionKind.EXPIRE)
    lots_at_thirteen = await open_lots(shop, customer)
    await expire(shop, EARNED, month(19))

    assert at_thirteen == 0
    assert expired_at_thirteen == []
    assert lots_at_thirteen == [0, 50]
    assert await entries(shop, customer, TransactionKind.EXPIRE) == [-50]
    assert await balance(shop, customer) == 0
    assert await open_lots(shop, customer) == [0, 0]


async def test_a_small_redemption_leaves_the_rest_of_the_oldest_lot_to_expire(
    shop: Database,
) -> None:
    customer = await enrolled(shop, "FIFO-SMALL")
    await earned(shop, customer, 100, month(0))
    await earned(shop, customer, 100, month(6))
    await redeemed(shop, customer, 30, month(7))

    await expire(shop, EARNED, month(13))

    assert await entries(shop, customer, TransactionKind.EXPIRE) == [-70]
    assert await balance(shop, customer) == 100
    assert await open_lots(shop, customer) == [0, 100]


async def test_a_returned_sale_takes_back_its_own_points_so_old_points_still_expire(
    shop: Database,
) -> None:
    customer = await enrolled(shop, "RETURNS")
    await earned(shop, customer, 100, month(0))
    sale = await earned(shop, customer, 50, month(11))
    refund = refunding(sale, "return", month(11).replace(day=20), reason="returned")
    await refund_sale(uow(shop), refund, TERMS)

    await expire(shop, EARNED, month(13))

    assert await entries(shop, customer, TransactionKind.EXPIRE) == [-100]
    assert await balance(shop, customer) == 0


async def test_points_expire_exactly_when_they_were_shown_to_expire(shop: Database) -> None:
    """29 February + 12 months has no day of its own: such points are shown, and expire,
    at the start of 1 March, in the customer's favour and never before."""
    customer = await enrolled(shop, "LEAP")
    leap_day = datetime(2028, 2, 29, 9, 0, tzinfo=UTC)
    await earned(shop, customer, 100, leap_day)
    shown = EARNED.expires_at(leap_day)
    assert shown == datetime(2029, 3, 1, 0, 0, tzinfo=UTC)

    await expire(shop, EARNED, shown - timedelta(microseconds=1))
    assert await entries(shop, customer, TransactionKind.EXPIRE) == []
    await expire(shop, EARNED, shown)

    assert await entries(shop, customer, TransactionKind.EXPIRE) == [-100]


async def test_inactivity_takes_the_whole_balance_after_twelve_months_without_a_sale(
    shop: Database,
) -> None:
    idle = await enrolled(shop, "IDLE")
    await earned(shop, idle, 100, month(0))
    await earned(shop, idle, 20, month(0).replace(day=20))

    await expire(shop, INACTIVITY, month(13))

    assert await entries(shop, idle, TransactionKind.EXPIRE) == [-120]
    assert await balance(shop, idle) == 0
    assert await expiry_lines(shop, idle) == [(customer_account(idle), -120), (BREAKAGE, 120)]
    assert await open_lots(shop, idle) == [0, 0]


async def test_a_recent_redemption_keeps_the_balance_under_the_inactivity_policy(
    shop: Database,
) -> None:
    active = await enrolled(shop, "ACTIVE")
    await earned(shop, active, 100, month(0))
    await redeemed(shop, active, 10, month(10))

    looked_at = await expire(shop, INACTIVITY, month(13))

    assert looked_at == 0
    assert await entries(shop, active, TransactionKind.EXPIRE) == []
    assert await balance(shop, active) == 90


async def test_a_bulk_award_is_not_activity_and_expires_with_the_rest_of_the_balance(
    shop: Database,
) -> None:
    idle = await enrolled(shop, "AWARDED")
    await earned(shop, idle, 100, month(0))
    await awarded(shop, idle, 25, month(11))
    newcomer = await enrolled(shop, "NEWCOMER", at=month(5))
    await awarded(shop, newcomer, 25, month(6))

    await expire(shop, INACTIVITY, month(13))

    assert await entries(shop, idle, TransactionKind.EXPIRE) == [-125]
    assert await balance(shop, idle) == 0
    assert await entries(shop, newcomer, TransactionKind.EXPIRE) == []
    assert await balance(shop, newcomer) == 25


async def test_under_the_never_policy_nothing_expires(shop: Database) -> None:
    customer = await enrolled(shop, "FOREVER")
    await earned(shop, customer, 100, month(0))

    looked_at = await expire(shop, NEVER, month(60))

    assert looked_at == 0
    assert await entries(shop, customer, TransactionKind.EXPIRE) == []
    assert await balance(shop, customer) == 100
    assert await open_lots(shop, customer) == [100]


async def test_two_expiry_runs_at_once_expire_each_customer_once(shop: Database) -> None:
    customers = [await enrolled(shop, f"RACE{n:02d}") for n in range(30)]
    for customer in customers:
        await earned(shop, customer, 100, month(0))
    runners = [Database(shop.url) for _ in range(2)]

    async def run(database: Database) -> None:
        while await expiry.expire_points(uow(database), EARNED, month(13), 7):
            pass

    try:
        await asyncio.gather(*(run(runner) for runner in runners))
    finally:
        for runner in runners:
            await runner.dispose()

    assert [await entries(shop, c, TransactionKind.EXPIRE) for c in customers] == [[-100]] * 30
    assert [await balance(shop, c) for c in customers] == [0] * 30
    assert await lines_total(shop, BREAKAGE) == 3000


async def test_after_expiry_the_journal_the_lots_and_the_balances_agree(shop: Database) -> None:
    a, b, c = [await enrolled(shop, card) for card in ("RA", "RB", "RC")]
    await earned(shop, a, 100, month(0))
    await earned(shop, a, 60, month(6))
    await redeemed(shop, a, 120, month(7))
    await awarded(shop, a, 25, month(8))
    await earned(shop, b, 80, month(2))
    await earned(shop, b, 30, month(18))
    await earned(shop, c, 50, month(12))

    await expire(shop, EARNED, month(19))

    balances = [await balance(shop, customer) for customer in (a, b, c)]
    assert balances == [25, 30, 50]
    for customer, expected in zip((a, b, c), balances, strict=True):
        assert await lines_total(shop, customer_account(customer)) == expected
        assert sum(await open_lots(shop, customer)) == expected
    assert await lines_total(shop, "%") == 0
    assert await lines_total(shop, "customer:%") == 105
    assert await lines_total(shop, BREAKAGE) == 120
    assert await lines_total(shop, "programme:points-issued") == -320
    assert await lines_total(shop, "programme:points-redeemed") == 120
    assert await lines_total(shop, "programme:promotions:%") == -25


@asynccontextmanager
async def served(settings: Settings, policy: str) -> AsyncIterator[GraphQLClient]:
    """An admin's client of an app under the expiry policy, with no background jobs."""
    changed = settings.model_copy(update={"points_expiry": policy, "run_jobs": False})
    app = create_app(changed)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield GraphQLClient(http, mint(settings, Role.ADMIN, stores=(), terminal=None))


async def expiring(gql: GraphQLClient, customer_id: str) -> tuple[int, int | None, str | None]:
    found = (await gql.data(EXPIRING, {"id": customer_id}))["customer"]
    return found["balance"], found["pointsExpiringNext"], found["pointsExpireAt"]


def instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


async def test_a_customer_sees_the_oldest_unspent_points_and_when_they_expire(
    shop: Database, settings: Settings
) -> None:
    spender, leap, empty = [await enrolled(shop, card) for card in ("GQ1", "GQ2", "GQ3")]
    await earned(shop, spender, 100, datetime(2026, 1, 31, 10, 0, tzinfo=UTC))
    await earned(shop, spender, 50, datetime(2026, 3, 15, 10, 0, tzinfo=UTC))
    await redeemed(shop, spender, 30, datetime(2026, 4, 1, 10, 0, tzinfo=UTC))
    await earned(shop, leap, 40, datetime(2028, 2, 29, 9, 0, tzinfo=UTC))

    async with served(settings, "earned") as gql:
        spender_sees = await expiring(gql, spender)
        leap_sees = await expiring(gql, leap)
        empty_sees = await expiring(gql, empty)

    assert spender_sees[:2] == (120, 70)
    assert instant(spender_sees[2]) == datetime(2027, 1, 31, 10, 0, tzinfo=UTC)
    assert leap_sees[:2] == (40, 40)
    assert instant(leap_sees[2]) == datetime(2029, 3, 1, 0, 0, tzinfo=UTC)
    assert empty_sees == (0, None, None)


async def test_under_inactivity_the_whole_balance_expires_a_year_after_the_last_sale(
    shop: Database, settings: Settings
) -> None:
    shopper, awarded_only = await enrolled(shop, "IN1"), await enrolled(shop, "IN2")
    await earned(shop, shopper, 100, month(0))
    await redeemed(shop, shopper, 40, month(3))
    await awarded(shop, shopper, 25, month(5))
    await awarded(shop, awarded_only, 25, month(5))

    async with served(settings, "inactivity") as gql:
        shopper_sees = await expiring(gql, shopper)
        awarded_only_sees = await expiring(gql, awarded_only)

    assert shopper_sees[:2] == (85, 85)
    assert instant(shopper_sees[2]) == month(15)
    assert awarded_only_sees[:2] == (25, 25)
    assert instant(awarded_only_sees[2]) == month(12)


async def test_nothing_is_shown_as_expiring_when_points_never_expire(
    shop: Database, gql: GraphQLClient
) -> None:
    customer = await enrolled(shop, "NEVER-GQ")
    await earned(shop, customer, 100, month(0))

    assert await expiring(gql, customer) == (100, None, None)


async def test_the_expire_command_expires_old_points_of_the_configured_database(
    shop: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    old, recent = await enrolled(shop, "CLI-OLD"), await enrolled(shop, "CLI-RECENT")
    await earned(shop, old, 100, months_after(now, -13))
    await earned(shop, recent, 100, months_after(now, -1))
    for name in [name for name in Settings.model_fields if name != "database_url"]:
        monkeypatch.delenv(f"LOYALTY_{name.upper()}", raising=False)
    monkeypatch.setenv("LOYALTY_DATABASE_URL", shop.url.render_as_string(hide_password=False))
    monkeypatch.setenv("LOYALTY_POINTS_EXPIRY", "earned")

    status = await asyncio.to_thread(cli.main, ["expire"])

    assert status == 0
    assert capsys.readouterr().out == "Expiry done: 1 customer(s) with points due looked at.\n"
    assert await entries(shop, old, TransactionKind.EXPIRE) == [-100]
    assert await balance(shop, old) == 0
    assert await entries(shop, recent, TransactionKind.EXPIRE) == []
    assert await balance(shop, recent) == 100
