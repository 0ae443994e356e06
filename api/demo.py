"""The demo programme `make run` seeds into an empty database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TextIO

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import func, select

from api.auth import Role, TokenIssuer
from api.demo_history import seed_history
from api.services import build_services, close_services, database_for
from api.settings import Settings
from domain.customers import EnrollCustomer, Identifiers
from domain.programme import SaveEarningRule, SaveReward
from domain.rewards import Reward, RewardKind
from domain.rules import EarningRule, RuleKind
from domain.stores import Store
from domain.use_cases import customers, programme, stores
from persistence.database import Database
from persistence.models import StoreRow
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from subscriptions.broker import InProcessBroker
from subscriptions.hub import Hub

STORES = (("S001", "Main Street"), ("S002", "Harbour Front"), ("S003", "Airport"))
RULES = (
    EarningRule(
        "", 0, "Grocery: 1 point per 1.00", RuleKind.CATEGORY_RATE, Decimal(1), category="grocery"
    ),
    EarningRule(
        "", 0, "Beauty: 2 points per 1.00", RuleKind.CATEGORY_RATE, Decimal(2), category="beauty"
    ),
    EarningRule(
        "",
        0,
        "Electronics: 0.5 points per 1.00",
        RuleKind.CATEGORY_RATE,
        Decimal("0.5"),
        category="electronics",
    ),
    EarningRule(
        "", 0, "No points on tobacco", RuleKind.CATEGORY_RATE, Decimal(0), category="tobacco"
    ),
    EarningRule(
        "", 0, "Gift cards earn nothing", RuleKind.PRODUCT_RATE, Decimal(0), sku="GIFT-CARD"
    ),
    EarningRule(
        "",
        0,
        "Triple points on coffee beans",
        RuleKind.MULTIPLIER,
        Decimal(3),
        sku="BEANS-1KG",
        max_points_per_sale=300,
    ),
    EarningRule(
        "",
        0,
        "50 bonus points on a sale of 100.00 or more",
        RuleKind.FLAT_BONUS,
        bonus_points=50,
        min_spend=Decimal(100),
        max_points_per_customer_per_day=50,
    ),
)
REWARDS = (
    Reward("COFFEE", "Free coffee", 100, kind=RewardKind.FREE_ITEM, sku="COFFEE-REG"),
    Reward("TOTE", "Canvas tote bag", 250, kind=RewardKind.VOUCHER, stock=500),
    Reward(
        "TEN-OFF", "10.00 off", 500, kind=RewardKind.FIXED_DISCOUNT, discount_amount=Decimal(10)
    ),
    Reward(
        "TEN-PCT",
        "10% off the basket",
        800,
        kind=RewardKind.PERCENT_DISCOUNT,
        discount_percent=Decimal(10),
    ),
)
CUSTOMERS = (
    ("Ada Lovelace", Identifiers(email="ada@example.com", card_number="6001000000000001")),
    ("Grace Hopper", Identifiers(phone="+15555550123", card_number="6001000000000002")),
    ("Alan Turing", Identifiers(external_id="CRM-1912", email="alan@example.com")),
)

HOW_TO_TRY = """
Demo programme ready: stores S001, S002, S003; customers ada@example.com,
card 6001000000000002 (Grace) and CRM-1912 (Alan); rewards COFFEE, TOTE, TEN-OFF,
TEN-PCT; earning rules listed by `{{ earningRules {{ name kind rate }} }}`.
Open http://{host}:{port}/graphql, put a token below in the Headers tab as
{{"Authorization": "Bearer <token>"}}, and try:

  {{ customer(lookup: {{email: "ada@example.com"}}) {{ id name balance }} }}

The README walks through a sale: preview, checkout with a reward, partial refund.
"""

# (role, staff, stores, terminal) of the tokens `make run` prints.
DEMO_TOKENS = (
    (Role.CASHIER, "cashier-demo", ("S001",), "T1"),
    (Role.DISPLAY, "display-demo", ("S001",), "D1"),
    (Role.MANAGER, "manager-demo", ("S001", "S002"), None),
    (Role.ADMIN, "admin-demo", (), None),
)
DEMO_TOKEN_TTL = timedelta(days=30)


async def seed_if_empty(settings: Settings, out: TextIO) -> None:
    database = database_for(settings)
    try:
        if await _has_stores(database):
            out.write("Database has data already; no demo seeded.\n")
        else:
            await _seed(database, settings.demo_history_days)
            if settings.demo_history_days:
                await _seed_history(settings, database)
            out.write(HOW_TO_TRY.format(host=settings.host, port=settings.port))
    finally:
        await database.dispose()
    if not settings.is_production:
        _write_tokens(settings, out)


async def _seed_history(settings: Settings, database: Database) -> None:
    """Months of sales for the dashboard, counted into the rollups before the server starts."""
    services = build_services(settings)
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()) as bar:
            days = settings.demo_history_days
            written = bar.add_task("demo history (days)", total=days)
            await seed_history(
                database,
                services.terms,
                datetime.now(UTC),
                days,
                lambda done: bar.update(written, completed=done),
            )
            counted = bar.add_task("counted into the analytics rollups", total=1)
            await services.rollups.drain()
            bar.update(counted, completed=1)
    finally:
        await close_services(services)


def _write_tokens(settings: Settings, out: TextIO) -> None:
    issuer = TokenIssuer(settings.auth_secret.get_secret_value())
    now = datetime.now(UTC)
    out.write("\nTokens for trying it out (valid 30 days; `loyalty token --help` mints more):\n")
    for role, staff, scope, terminal in DEMO_TOKENS:
        minted = issuer.mint(
            role=role,
            staff_id=staff,
            stores=scope,
            terminal_id=terminal,
            now=now,
            ttl=DEMO_TOKEN_TTL,
        )
        covered = ", ".join(scope) or "all stores"
        out.write(f"\n  {role.value} ({covered}):\n  {minted}\n")


async def _has_stores(database: Database) -> bool:
    async with database.reading() as session:
        return bool(await session.scalar(select(func.count()).select_from(StoreRow)))


async def _seed(database: Database, history_days: int) -> None:
    broker = InProcessBroker(Hub())
    now = datetime.now(UTC)
    for code, name in STORES:
        await stores.create_store(SqlAlchemyUnitOfWork(database, broker), Store(code, name))
    for name, identifiers in CUSTOMERS:
        command = EnrollCustomer(name=name, identifiers=identifiers, enrolled_at=now)
        await customers.enroll_customer(SqlAlchemyUnitOfWork(database, broker), command)
    # The rules are as old as the demo's history, so its sales earn by them.
    since = now - timedelta(days=history_days + 1)
    for rule in RULES:
        save = SaveEarningRule(None, rule, since, None)
        await programme.save_earning_rule(SqlAlchemyUnitOfWork(database, broker), save)
    for reward in REWARDS:
        add = SaveReward(reward, creating=True, saved_at=now)
        await programme.save_reward(SqlAlchemyUnitOfWork(database, broker), add)
