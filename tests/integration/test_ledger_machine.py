"""The ledger under random use: a Hypothesis state machine over the real use cases and database.

It enrols customers, earns on random sales, redeems (sometimes more than the balance),
refunds units of earlier sales (sometimes more than are left, sometimes after the points
were spent), retries earlier requests under their idempotency keys and reuses keys for
other requests, keeping a model of every account. After every step it reads the tables
with plain SQL: each balance equals the model and the sum of the customer's journal
lines, points owed equal the model and the customer's `owed:` lines, none is negative,
and every entry, like the whole journal, sums to zero.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any, ClassVar, TypeVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text

from domain.accounts import Account
from domain.customers import EnrollCustomer, Identifiers
from domain.errors import IdempotencyKeyReused, InsufficientPoints, InvalidInput
from domain.events import BalanceChanged, Event
from domain.ledger import customer_account, owed_account
from domain.points import EarnPoints, RedeemPoints
from domain.programme import Terms
from domain.sales import SaleLine, sale_line, sale_lines
from domain.stores import Store
from domain.use_cases import customers, stores
from domain.use_cases.points import PointsMoved, earn_points, redeem_points, refund_sale
from persistence.database import Database
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from tests.conftest import empty_tables
from tests.programme import add_rule, category_rate
from tests.use_cases import earning, redeeming, refunding

T = TypeVar("T")
Command = EarnPoints | RedeemPoints

STORE = "S1"
BASE_RATE = Decimal("1")
CATEGORY_RATES = {"beauty": Decimal("2"), "fuel": Decimal("0.5"), "tobacco": Decimal("0")}
START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
MAX_CUSTOMERS = 3
MACHINE_SETTINGS = settings(max_examples=25, stateful_step_count=30, deadline=None)


def _line(sku: str, category: str, quantity: int, cents: int, places: int) -> SaleLine:
    price = Decimal(cents).scaleb(-places)  # 0, 1 or 2 decimal places, as a till sends them
    return sale_line(sku, category, quantity, str(price), ("input", "lines", "0"))


SALE_LINES = st.builds(
    _line,
    sku=st.sampled_from(["SKU-1", "SKU-2", "SKU-3"]),
    category=st.sampled_from([*CATEGORY_RATES, "grocery"]),  # grocery has no rate: base
    quantity=st.integers(1, 5),
    cents=st.integers(0, 20_000),
    places=st.integers(0, 2),
)
SALES = st.lists(SALE_LINES, min_size=1, max_size=4).map(
    lambda lines: sale_lines(lines, ("input", "lines"))
)
EXTRA_LINE = sale_line("SKU-9", "grocery", 1, "1.00", ("input", "lines", "0"))
POINTS_TO_REDEEM = st.integers(1, 50) | st.integers(1, 5_000)


def line_points(line: SaleLine) -> Decimal:
    return line.quantity * line.unit_price * CATEGORY_RATES.get(line.category, BASE_RATE)


def expected_points(lines: Sequence[SaleLine]) -> int:
    return math.floor(sum((line_points(line) for line in lines), Decimal(0)))


@dataclass
class ModelAccount:
    balance: int = 0
    balance_version: int = 0
    lifetime_earned: int = 0
    points_owed: int = 0
    entries: int = 0

    def moved(self, points: int) -> int:
        """Points earned pay off points owed first; returns the change of balance."""
        paid_off = min(max(points, 0), self.points_owed)
        self.points_owed -= paid_off
        self.lifetime_earned += max(points, 0)
        return self._changed(points - paid_off)

    def refunded(self, taken_back: int) -> int:
        shortfall = max(0, taken_back - self.balance)
        self.points_owed += shortfall
        self.lifetime_earned = max(0, self.lifetime_earned - taken_back)
        return self._changed(shortfall - taken_back)

    def _changed(self, delta: int) -> int:
        self.balance += delta
        self.balance_version += 1 if delta else 0
        self.entries += 1
        return delta


@dataclass
class ModelSale:
    """A sale as the model sees it: what each line earned, and how much came back."""

    customer: str
    lines: tuple[SaleLine, ...]
    earned: int
    returned: list[int]

    def taken_back_after(self, returned: Sequence[int]) -> int:
        """The refund policy, cumulative: the earned points times the share returned,
        weighed by each line's points (by amount when no line earned any), rounded down;
        everything once every unit is back."""
        if list(returned) == [line.quantity for line in self.lines]:
            return self.earned
        weights = [line_points(line) for line in self.lines]
        if not any(weights):
            weights = [line.quantity * line.unit_price for line in self.lines]
        whole = sum(weights, Decimal(0))
        if not whole:
            return 0
        part = sum(
            Fraction(weight) * back / line.quantity
            for weight, back, line in zip(weights, returned, self.lines, strict=True)
        )
        return math.floor(self.earned * part / Fraction(whole))


@dataclass(frozen=True)
class Done:
    """A request made once: the entry it posted, or None when it was refused."""

    command: Command
    entry_id: int | None
    points: int


class FakePublisher:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def publish(self, events: Sequence[Event]) -> None:
        self.events.extend(events)


class LedgerMachine(RuleBasedStateMachine):
    database_url: ClassVar[str]
    customers: Bundle[str] = Bundle("customers")
    done: Bundle[Done] = Bundle("done")

    def __init__(self) -> None:
        super().__init__()
        # The rules are synchronous; the use cases run on this machine's own loop.
        self.loop = asyncio.new_event_loop()
        self.database = Database(self.database_url)
        self.publisher = FakePublisher()
        self.model: dict[str, ModelAccount] = {}
        self.sales: dict[int, ModelSale] = {}
        self.serial = itertools.count(1)
        self.run(empty_tables(self.database))

    def teardown(self) -> None:
        try:
            self.run(self.database.dispose())
        finally:
            self.loop.close()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.database, self.publisher)

    def next_serial(self) -> int:
        return next(self.serial)

    def now(self) -> datetime:
        return START + timedelta(seconds=self.next_serial())

    def execute(self, command: Command) -> PointsMoved:
        if isinstance(command, EarnPoints):
            return self.run(earn_points(self.uow(), command, Terms(BASE_RATE)))
        return self.run(redeem_points(self.uow(), command, Terms(BASE_RATE)))

    @initialize()
    def open_a_store_with_category_rates(self) -> None:
        store = self.run(stores.create_store(self.uow(), Store(STORE, "Main")))
        assert store.id == STORE
        self.run(self._set_category_rates())

    async def _set_category_rates(self) -> None:
        for category, rate in CATEGORY_RATES.items():
            rule = category_rate(category, str(rate))
            await add_rule(self.database, rule, saved_at=START - timedelta(days=1))

    @precondition(lambda self: len(self.model) < MAX_CUSTOMERS)  # few, each used a lot
    @rule(target=customers)
    def enroll(self) -> str:
        n = self.next_serial()
        command = EnrollCustomer(
            name=f"Customer {n}",
            identifiers=Identifiers(external_id=f"POS-{n}", email=f"c{n}@example.com"),
            enrolled_at=self.now(),
        )
        customer = self.run(customers.enroll_customer(self.uow(), command))
        assert customer.account == Account(customer.id, 0, 0, 0)
        self.model[customer.id] = ModelAccount()
        return customer.id

    @rule(target=done, customer=customers, lines=SALES)
    def earn(self, customer: str, lines: tuple[SaleLine, ...]) -> Done:
        key = f"earn-{self.next_serial()}"
        command = earning(customer, key, lines, self.now(), STORE, terminal_id="T1")
        published = len(self.publisher.events)

        result = self.execute(command)

        points = expected_points(lines)
        delta = self.model[customer].moved(points)
        self.assert_result(result, customer, delta)
        self.assert_published(published, result, delta)
        self.sales[result.posted.id] = ModelSale(customer, lines, points, [0] * len(lines))
        return Done(command, result.posted.id, delta)

    @precondition(lambda self: self.sales)
    @rule(pick=st.integers(0, 1_000), line=st.integers(0, 3), units=st.integers(0, 6))
    def refund_units_of_a_sale(self, pick: int, line: int, units: int) -> None:
        """`units` of one line, or (0) everything left of the sale."""
        entry_id = sorted(self.sales)[pick % len(self.sales)]
        sale = self.sales[entry_id]
        number = line % len(sale.lines)
        left = [item.quantity - back for item, back in zip(sale.lines, sale.returned, strict=True)]
        asked = ((number + 1, units),) if units else ()
        command = refunding(
            entry_id, f"refund-{self.next_serial()}", self.now(), store_id=STORE, quantities=asked
        )
        if (units and units > left[number]) or not any(left):
            with pytest.raises(InvalidInput):
                self.run(refund_sale(self.uow(), command, Terms(BASE_RATE)))
            return

        result = self.run(refund_sale(self.uow(), command, Terms(BASE_RATE)))

        after = list(sale.returned)
        for index in range(len(after)):
            if not units or index == number:
                after[index] += units or left[index]
        taken_back = sale.taken_back_after(after) - sale.taken_back_after(sale.returned)
        sale.returned = after
        delta = self.model[sale.customer].refunded(taken_back)
        assert result.refund.outcome.points_taken_back == taken_back
        self.assert_result(PointsMoved(result.reversal), sale.customer, delta)

    @rule(target=done, customer=customers, points=POINTS_TO_REDEEM)
    def redeem(self, customer: str, points: int) -> Done:
        return self.redeem_points(customer, points)

    @rule(target=done, customer=customers)
    def redeem_the_whole_balance(self, customer: str) -> Done:
        return self.redeem_points(customer, max(self.model[customer].balance, 1))

    def redeem_points(self, customer: str, points: int) -> Done:
        key = f"redeem-{self.next_serial()}"
        command = redeeming(customer, key, points, self.now(), STORE)
        published = len(self.publisher.events)
        if points > self.model[customer].balance:
            with pytest.raises(InsufficientPoints):
                self.execute(command)
            assert len(self.publisher.events) == published
            return Done(command, None, 0)

        result = self.execute(command)

        self.model[customer].moved(-points)
        self.assert_result(result, customer, -points)
        self.assert_published(published, result, -points)
        return Done(command, result.posted.id, -points)

    @rule(previous=done)
    def retry_with_the_same_key(self, previous: Done) -> None:
        retry = replace(previous.command, occurred_at=self.now())
        published = len(self.publisher.events)
        if previous.entry_id is None:
            # The first answer was a refusal; a retry gets the same refusal back.
            with pytest.raises(InsufficientPoints):
                self.execute(retry)
        else:
            result = self.execute(retry)
            assert result.posted.id == previous.entry_id
            assert result.posted.entry.points == previous.points
        assert len(self.publisher.events) == published

    @rule(previous=done, customer=customers, other_kind=st.booleans())
    def reuse_a_key_for_a_different_request(
        self, previous: Done, customer: str, other_kind: bool
    ) -> None:
        different = _different_request(previous.command, customer, other_kind, self.now())
        published = len(self.publisher.events)

        with pytest.raises(IdempotencyKeyReused):
            self.execute(different)

        assert len(self.publisher.events) == published

    def assert_result(self, result: PointsMoved, customer: str, points: int) -> None:
        """The answer is the entry as posted: the account as it stands after it (which the
        ledger invariant checks against what is stored)."""
        expected, entry = self.model[customer], result.posted.entry
        assert entry.customer_id == customer
        assert entry.points == points
        assert (entry.balance_after, entry.balance_version) == (
            expected.balance,
            expected.balance_version,
        )

    def assert_published(self, published_before: int, result: PointsMoved, points: int) -> None:
        new_events = self.publisher.events[published_before:]
        expected = [BalanceChanged(result.posted)] if points else []
        assert new_events == expected

    @invariant()
    def the_ledger_adds_up(self) -> None:
        self.run(self._check_the_ledger())

    async def _check_the_ledger(self) -> None:
        async with self.database.reading() as session:
            accounts = (await session.execute(text(ACCOUNTS_SQL))).all()
            journal = {row[0]: row[1] for row in await session.execute(text(CUSTOMER_LINES_SQL))}
            entries = {row[0]: row[1] for row in await session.execute(text(ENTRY_COUNTS_SQL))}
            unbalanced = (await session.execute(text(UNBALANCED_ENTRIES_SQL))).all()
            total = (await session.execute(text(JOURNAL_TOTAL_SQL))).scalar_one()

        stored = {
            row.id: (row.balance, row.balance_version, row.lifetime_earned, row.points_owed)
            for row in accounts
        }
        assert stored == {
            customer: (m.balance, m.balance_version, m.lifetime_earned, m.points_owed)
            for customer, m in self.model.items()
        }
        for customer, model in self.model.items():
            assert journal.get(customer_account(customer), 0) == model.balance, customer
            assert journal.get(owed_account(customer), 0) == -model.points_owed, customer
            assert entries.get(customer, 0) == model.entries, customer
        assert all(row.balance >= 0 and row.points_owed >= 0 for row in accounts)
        assert unbalanced == []
        assert total == 0


ACCOUNTS_SQL = "SELECT id, balance, balance_version, lifetime_earned, points_owed FROM customers"
CUSTOMER_LINES_SQL = (
    "SELECT account, SUM(amount) FROM journal_lines "
    "WHERE account LIKE 'customer:%' OR account LIKE 'owed:%' GROUP BY account"
)
ENTRY_COUNTS_SQL = "SELECT customer_id, COUNT(*) FROM journal_entries GROUP BY customer_id"
UNBALANCED_ENTRIES_SQL = (
    "SELECT e.id, SUM(l.amount) FROM journal_entries e "
    "LEFT JOIN journal_lines l ON l.entry_id = e.id "
    "GROUP BY e.id HAVING COALESCE(SUM(l.amount), 0) <> 0"
)
JOURNAL_TOTAL_SQL = "SELECT COALESCE(SUM(amount), 0) FROM journal_lines"


def _different_request(command: Command, customer: str, other_kind: bool, at: datetime) -> Command:
    """Another request under `command`'s idempotency key: never a mere retry of it."""
    key = command.idempotency_key
    if isinstance(command, EarnPoints):
        if other_kind:
            return redeeming(customer, key, 1, at, STORE)
        return replace(command, customer_id=customer, lines=(*command.lines, EXTRA_LINE))
    if other_kind:
        return earning(customer, key, (EXTRA_LINE,), at, STORE)
    assert command.points is not None
    return replace(command, customer_id=customer, points=command.points + 1)


def test_ledger_balances_match_the_journal_under_random_use(database_url: str) -> None:
    class Machine(LedgerMachine):
        pass

    Machine.database_url = database_url
    run_state_machine_as_test(Machine, settings=MACHINE_SETTINGS)
