"""previewEarn promises what earnPoints then gives, whatever the rules and the cart.

Each example opens a store of its own and gives it a fresh set of random rules (every
kind, with windows, minimum spends and caps) naming only that store, so the rules of
earlier examples, which stay in the database, never apply. A new customer earns on a few
earlier sales the same day (using up daily caps), sometimes spends it all and has a sale
refunded (so points are owed), and then the preview and the earn of one cart, at the
same instant, must agree on the points and on the balance they lead to.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain.accounts import Account
from domain.points import PreviewEarn
from domain.programme import Terms
from domain.rules import EarningRule, RuleKind, Schedule
from domain.sales import SaleLine
from domain.use_cases import points
from persistence.database import Database
from persistence.queries.points import sale_breakdowns
from tests.programme import add_rule
from tests.use_cases import earning, enrolled, open_store, redeeming, refunding, uow

AT = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)  # a Sunday afternoon
TERMS = Terms(base_rate=Decimal("1"))
CATEGORIES = ["grocery", "beauty", "fuel"]
SKUS = ["SKU-1", "SKU-2", "SKU-3"]
SERIAL = itertools.count(1)

RATES = st.sampled_from(["0", "0.5", "1", "1.25", "2", "3.3333"]).map(Decimal)
MULTIPLIERS = st.sampled_from(["1.5", "2", "3"]).map(Decimal)
TARGETS = st.one_of(
    st.just((None, None)),
    st.sampled_from(CATEGORIES).map(lambda category: (category, None)),
    st.sampled_from(SKUS).map(lambda sku: (None, sku)),
)
WINDOWS = st.sampled_from(
    [
        (None, None),
        (AT - timedelta(days=2), None),
        (AT + timedelta(hours=1), None),
        (None, AT - timedelta(hours=1)),
        (AT - timedelta(days=2), AT + timedelta(days=2)),
    ]
)
HOURS = st.sampled_from(
    [(None, None), (time(9), time(17)), (time(22), time(6)), (time(16), None), (None, time(12))]
)
ZONES = st.sampled_from(["UTC", "Europe/London", "America/New_York", "Asia/Tokyo"])


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    starts_at, ends_at = draw(WINDOWS)
    from_time, until_time = draw(HOURS)
    days = draw(st.frozensets(st.integers(1, 7), max_size=4))
    return Schedule(starts_at, ends_at, days, from_time, until_time, draw(ZONES))


@st.composite
def rules(draw: st.DrawFn) -> EarningRule:
    kind = draw(st.sampled_from(RuleKind))
    category, sku = draw(TARGETS)
    rate, bonus = None, None
    if kind is RuleKind.BASE_RATE:
        category, sku, rate = None, None, draw(RATES)
    elif kind is RuleKind.CATEGORY_RATE:
        category, sku, rate = draw(st.sampled_from(CATEGORIES)), None, draw(RATES)
    elif kind is RuleKind.PRODUCT_RATE:
        category, sku, rate = None, draw(st.sampled_from(SKUS)), draw(RATES)
    elif kind is RuleKind.MULTIPLIER:
        rate = draw(MULTIPLIERS)
    else:
        bonus = draw(st.integers(1, 50))
    return EarningRule(
        "",
        0,
        f"{kind.value.lower()} rule",
        kind,
        rate,
        bonus,
        category,
        sku,
        # Most rules always apply, so that their caps and stacking are often in play.
        schedule=draw(schedules()) if draw(st.integers(0, 2)) == 0 else Schedule(),
        min_spend=draw(st.none() | st.integers(0, 8_000).map(lambda c: Decimal(c) / 100)),
        max_points_per_sale=draw(st.none() | st.integers(1, 60)),
        max_points_per_customer_per_day=draw(st.none() | st.integers(1, 120)),
    )


def _line(sku: str, category: str, quantity: int, cents: int) -> SaleLine:
    return SaleLine(sku, category, quantity, Decimal(cents) / 100)


CARTS = st.lists(
    st.builds(
        _line,
        sku=st.sampled_from(SKUS),
        category=st.sampled_from(CATEGORIES),
        quantity=st.integers(1, 5),
        cents=st.integers(0, 10_000),
    ),
    min_size=1,
    max_size=5,
).map(tuple)


@dataclass(frozen=True)
class Case:
    rules: list[EarningRule]
    earlier: list[tuple[tuple[SaleLine, ...], int]]  # a cart, and how many minutes before AT
    spend_and_refund: bool
    cart: tuple[SaleLine, ...]


CASES = st.builds(
    Case,
    rules=st.lists(rules(), min_size=1, max_size=6),
    earlier=st.lists(st.tuples(CARTS, st.integers(1, 20 * 60)), min_size=1, max_size=3),
    spend_and_refund=st.booleans(),
    cart=CARTS,
)


async def customer_in_a_store_of_its_own(database: Database, case: Case) -> tuple[str, str]:
    """A new store with the case's rules (naming it alone), and a new customer's id."""
    store_id = f"P{next(SERIAL)}"
    await open_store(database, store_id, "Property")
    for rule in case.rules:
        await add_rule(database, replace(rule, store_ids=frozenset({store_id})))
    return store_id, await enrolled(database, AT, external_id=store_id)


async def earlier_sales(database: Database, case: Case, store_id: str, customer_id: str) -> None:
    """Earlier earns the same day; then maybe spend everything and refund the first sale,
    so that the customer owes what the refund could not take back."""
    earned = []
    for n, (cart, minutes) in enumerate(case.earlier):
        at = AT - timedelta(minutes=minutes)
        earn = earning(customer_id, f"{store_id}-earlier-{n}", cart, at, store_id)
        earned.append(await points.earn_points(uow(database), earn, TERMS))
    if not (case.spend_and_refund and earned and earned[-1].posted.entry.balance_after):
        return
    balance = earned[-1].posted.entry.balance_after
    spend = redeeming(customer_id, f"{store_id}-spend", balance, AT, store_id)
    await points.redeem_points(uow(database), spend, TERMS)
    first = earned[0].posted.id
    returned = refunding(first, f"{store_id}-refund", AT, store_id=store_id)
    await points.refund_sale(uow(database), returned, TERMS)


async def account_of(database: Database, customer_id: str) -> Account:
    async with uow(database, read_only=True) as work:
        account = await work.customers.account(customer_id)
    assert account is not None
    return account


@settings(
    max_examples=25,
    deadline=None,
    # The database is per test, not per example: each example opens its own store.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=CASES)
async def test_preview_earn_promises_the_points_and_balance_earn_points_gives(
    database: Database, case: Case
) -> None:
    store_id, customer_id = await customer_in_a_store_of_its_own(database, case)
    await earlier_sales(database, case, store_id, customer_id)
    before = await account_of(database, customer_id)

    preview = await points.preview_earn(
        uow(database, read_only=True), PreviewEarn(customer_id, store_id, case.cart, AT), TERMS
    )
    earn = earning(customer_id, f"{store_id}-sale", case.cart, AT, store_id)
    result = await points.earn_points(uow(database), earn, TERMS)
    after = await account_of(database, customer_id)

    event("points owed before the sale" if before.points_owed else "nothing owed")
    event("a cap cut the sale" if preview.calculation.caps else "no cap cut the sale")
    event(f"rules that gave points: {len(preview.calculation.rules)}")
    async with database.reading() as session:
        recorded = (await sale_breakdowns(session, [result.posted.id]))[result.posted.id]
    assert preview.points == recorded.points
    assert preview.calculation.exact == recorded.exact_points
    # The sale as recorded reads back as the very calculation that earned it.
    assert recorded.lines == preview.calculation.lines
    assert recorded.contributions == preview.calculation.contributions
    assert preview.projected_balance == after.balance == result.posted.entry.balance_after
    # What the earn did not credit to the balance paid off points owed, first.
    paid_off = min(preview.points, before.points_owed)
    assert after.balance == before.balance + preview.points - paid_off
    assert after.points_owed == before.points_owed - paid_off
