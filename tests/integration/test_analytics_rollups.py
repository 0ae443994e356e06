"""The rollups answer exactly what the raw rows do: random histories recorded through the
use cases and the workers (sales, checkouts with rewards and points, refunds, redemptions,
bulk awards with a holdout and their reversal, expiry, guest sales, adjustments) over
four months, counted by the rollup worker, then asked about random ranges in every kept
time zone, by day, week and month, for the programme and for one and two stores.

Times are drawn so that many fall on different local days in different zones (23:30 UTC
is the next day in Kolkata; 02:00 UTC the day before in New York), and New York's clocks
go back on 1 November inside the history."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from domain.analytics import AnalyticsRange, AnalyticsReport, Granularity, midnight, zone_of
from domain.campaigns import BulkAwardPoints, ReverseBulkAward
from domain.customers import EnrollCustomer, Identifiers
from domain.errors import DomainError
from domain.expiry import ExpiryKind, ExpiryPolicy
from domain.guests import RecordGuestSale
from domain.ledger import Actor
from domain.points import AdjustPoints, Checkout
from domain.programme import Terms
from domain.rewards import Reward, RewardKind
from domain.sales import SaleLine
from domain.use_cases import campaigns, customers, guests, points
from persistence.analytics.raw import raw_report
from persistence.analytics.reading import rollup_report
from persistence.analytics.tally import Zones
from persistence.database import Database
from persistence.models import RollupGapRow
from subscriptions.broker import InProcessBroker
from subscriptions.hub import Hub
from tests.conftest import empty_tables
from tests.programme import add_reward
from tests.use_cases import earning, open_store, redeeming, refunding, uow
from workers.campaigns import BulkAwardWorker
from workers.expiry import ExpiryWorker
from workers.rollups import RollupWorker

ZONES = ("UTC", "America/New_York", "Asia/Kolkata")
STORES = ("S1", "S2", "S3")
STAFF = (None, "ann", "bob")
FIRST_DAY = date(2026, 8, 1)
HISTORY_DAYS = 120
TERMS = Terms(base_rate=Decimal(1))
POINT_VALUE = Decimal("0.01")
REWARDS = (
    Reward("COFFEE", "Coffee", 10, kind=RewardKind.FIXED_DISCOUNT, discount_amount=Decimal(2)),
    Reward("BAG", "Bag", 25),
)
# Minutes of the day (UTC), weighted towards those that are another day somewhere.
MINUTES = st.sampled_from([30, 2 * 60, 4 * 60 + 45, 12 * 60, 19 * 60 + 15, 23 * 60 + 30]) | (
    st.integers(0, 24 * 60 - 1)
)


@dataclass(frozen=True)
class Step:
    """One thing that happens, at `day` and `minute` of the history (UTC)."""

    day: int
    minute: int
    kind: str
    customer: int = 0
    store: int = 0
    staff: int = 0
    amount: int = 0
    option: int = 0
    # Days after it happened that it was recorded (a till that was offline).
    late: int = 0

    @property
    def at(self) -> datetime:
        start = datetime.combine(FIRST_DAY, datetime.min.time(), UTC)
        return start + timedelta(days=self.day, minutes=self.minute)

    @property
    def order(self) -> tuple[datetime, str]:
        return self.at + timedelta(days=self.late), self.kind


def steps(kind: str, **extra: st.SearchStrategy[int]) -> st.SearchStrategy[Step]:
    return st.builds(
        Step,
        day=st.integers(0, HISTORY_DAYS - 1),
        minute=MINUTES,
        kind=st.just(kind),
        customer=st.integers(0, 9),
        store=st.integers(0, len(STORES) - 1),
        staff=st.integers(0, len(STAFF) - 1),
        **extra,
    )


LATE = st.sampled_from([0, 0, 0, 1, 4])


STEP = st.one_of(
    # A sale: its price in cents; option 0 earn, 1 checkout, 2 with COFFEE, 3 with BAG,
    # 4 paying with points, and +5 when the till sent when it began.
    steps("sale", amount=st.integers(100, 6000), option=st.integers(0, 9), late=LATE),
    steps("sale", amount=st.integers(100, 6000), option=st.integers(0, 9), late=LATE),
    # A redemption of `amount` sixtieths of the balance, or (option 1, 2) of a reward.
    steps("redeem", amount=st.integers(1, 60), option=st.integers(0, 2), late=LATE),
    # A refund of the option-th latest sale, a few days later, in full or one unit.
    steps("refund", amount=st.integers(0, 20), option=st.integers(0, 5)),
    # A bulk award of `amount` points with a holdout of option x 10 %, to customers from
    # `customer` on; reversed `staff` x 9 days later when staff is not 0.
    steps("award", amount=st.integers(5, 80), option=st.integers(0, 5)),
    steps("expire"),
    steps("guest", amount=st.integers(100, 4000)),
    steps("adjust", amount=st.integers(-20, -1) | st.integers(1, 40), late=LATE),
)


@dataclass(frozen=True)
class Enrolment:
    day: int
    minute: int
    staff: int
    store: int


ENROLMENT = st.builds(
    Enrolment,
    day=st.integers(0, HISTORY_DAYS - 1),
    minute=MINUTES,
    staff=st.integers(0, len(STAFF) - 1),
    store=st.integers(0, len(STORES)),
)


@dataclass(frozen=True)
class Asked:
    zone: str
    granularity: Granularity
    first: int
    days: int
    stores: tuple[str, ...] | None
    compared: int | None

    def range(self) -> AnalyticsRange:
        zone = zone_of(self.zone)
        first = FIRST_DAY + timedelta(days=self.first)
        end = first + timedelta(days=self.days)
        compare = {}
        if self.compared is not None:
            earlier = first - timedelta(days=self.compared)
            compare = {
                "compare_start": midnight(earlier, zone),
                "compare_end": midnight(earlier + timedelta(days=10), zone),
            }
        stores = None if self.stores is None else frozenset(self.stores)
        return AnalyticsRange(
            midnight(first, zone),
            midnight(end, zone),
            self.granularity,
            self.zone,
            stores,
            **compare,
        )


ASKED = st.builds(
    Asked,
    zone=st.sampled_from(ZONES),
    granularity=st.sampled_from(list(Granularity)),
    first=st.integers(-40, HISTORY_DAYS),
    # Long ranges too: from 1 July (-31) a range of 92 days or more holds a whole quarter,
    # whose values are read from the quarter's rows.
    days=st.integers(1, 70) | st.integers(92, 160),
    stores=st.sampled_from([None, ("S1",), ("S2",), ("S1", "S2"), ("S2", "S3")]),
    compared=st.none() | st.integers(0, 60),
)


# Ranges that are one whole month (August, September, October 2026), week (from Monday
# 3 August) or day: their totals' percentiles are the kept ones, not the values'.
WHOLE_PERIODS = [(0, 31), (31, 30), (61, 31), (2, 7), (9, 7), (5, 1), (40, 1)]
WHOLE = st.builds(
    Asked,
    zone=st.sampled_from(ZONES),
    granularity=st.sampled_from(list(Granularity)),
    first=st.just(0),
    days=st.just(1),
    stores=st.sampled_from([None, ("S1",), ("S2",), ("S1", "S2")]),
    compared=st.none() | st.integers(0, 60),
).flatmap(
    lambda asked: st.sampled_from(WHOLE_PERIODS).map(
        lambda period: replace(asked, first=period[0], days=period[1])
    )
)


def actor(staff: int) -> Actor | None:
    name = STAFF[staff]
    return None if name is None else Actor(name, "cashier", "T1")


def lines_of(step: Step) -> tuple[SaleLine, ...]:
    """One line, or two when the price is odd: a partial refund then has a unit to return."""
    price = Decimal(step.amount) / 100
    if step.amount % 2:
        return (SaleLine("A", "grocery", 2, price / 2), SaleLine("B", "bakery", 1, Decimal(1)))
    return (SaleLine("A", "grocery", 1, price),)


class History:
    """Records steps through the use cases and workers, in the order they happened."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.publisher = InProcessBroker(Hub())
        self.customers: list[tuple[str, datetime]] = []
        self.sales: list[int] = []
        self.serial = 0
        # Every movement is recorded now, whenever it happened (as from an offline till).
        self.now = datetime.now(UTC)

    def key(self) -> str:
        self.serial += 1
        return f"k{self.serial}"

    async def record(
        self, enrolments: list[Enrolment], history: list[Step], counting: RollupWorker
    ) -> None:
        """The history in the order it was recorded; the rollups count part of it halfway
        through, as they would while it happens."""
        for store in STORES:
            await open_store(self.database, store, store)
        for reward in REWARDS:
            await add_reward(self.database, reward)
        for number, enrolment in enumerate(enrolments):
            await self.enrol(number, enrolment)
        ordered = sorted(history, key=lambda s: s.order)
        for number, step in enumerate(ordered):
            if number == len(ordered) // 2:
                await counting.drain()
            if step.kind == "refund" and not self.sales:
                continue
            # Refused (not enough points, refunded already): nothing to count.
            with contextlib.suppress(DomainError):
                await self.do(step)
                event(f"{step.kind}{' recorded late' if step.late else ''}")

    async def enrol(self, number: int, enrolment: Enrolment) -> None:
        at = Step(enrolment.day, enrolment.minute, "enrol").at
        store = None if enrolment.store == len(STORES) else STORES[enrolment.store]
        command = EnrollCustomer(
            None, Identifiers(card_number=f"C{number}"), at, STAFF[enrolment.staff], store
        )
        customer = await customers.enroll_customer(uow(self.database), command)
        self.customers.append((customer.id, at))

    def customer(self, step: Step) -> tuple[str, datetime]:
        """The step's customer, and when: never before they enrolled."""
        customer_id, enrolled_at = self.customers[step.customer % len(self.customers)]
        return customer_id, max(step.at, enrolled_at + timedelta(minutes=1))

    async def do(self, step: Step) -> None:
        handlers: dict[str, Callable[[Step], Awaitable[None]]] = {
            "sale": self.sale,
            "redeem": self.redeem,
            "refund": self.refund,
            "award": self.award,
            "expire": self.expire,
            "guest": self.guest,
            "adjust": self.adjust,
        }
        await handlers[step.kind](step)

    async def balance(self, customer_id: str) -> int:
        reading = uow(self.database, read_only=True)
        async with reading:
            account = await customers.current_account(reading, customer_id)
        return 0 if account is None else account.balance

    async def sale(self, step: Step) -> None:
        customer_id, at = self.customer(step)
        store, kind, timed = STORES[step.store], step.option % 5, step.option >= 5
        # Points spent are at most what the customer holds, so most spending goes through.
        spent = min(step.amount // 2, 40, await self.balance(customer_id))
        lines = lines_of(step)
        if kind == 0:
            command = earning(
                customer_id,
                self.key(),
                lines,
                at,
                store,
                actor=actor(step.staff),
                recorded_at=self.now,
            )
            moved = await points.earn_points(uow(self.database), command, TERMS)
            self.sales.append(moved.posted.id)
            return
        checkout = Checkout(
            customer_id=customer_id,
            idempotency_key=self.key(),
            store_id=store,
            lines=lines,
            occurred_at=at,
            started_at=at - timedelta(milliseconds=step.amount * 7) if timed else None,
            reward_id={2: "COFFEE", 3: "BAG"}.get(kind),
            points=spent if kind == 4 and spent else None,
            actor=actor(step.staff),
            recorded_at=self.now,
        )
        done = await points.checkout(uow(self.database), checkout, TERMS)
        self.sales.append(done.earned.id)

    async def redeem(self, step: Step) -> None:
        customer_id, at = self.customer(step)
        reward = {1: "COFFEE", 2: "BAG"}.get(step.option)
        held = await self.balance(customer_id)
        if not held:
            return
        command = redeeming(
            customer_id,
            self.key(),
            None if reward else max(1, held * step.amount // 60),
            at,
            STORES[step.store],
            reward_id=reward,
            actor=actor(step.staff),
            recorded_at=self.now,
        )
        await points.redeem_points(uow(self.database), command, TERMS)

    async def refund(self, step: Step) -> None:
        sale = self.sales[-1 - step.option % len(self.sales)]
        quantities = ((1, 1),) if step.amount % 2 else ()
        command = refunding(
            sale, self.key(), step.at, store_id=STORES[step.store], quantities=quantities
        )
        await points.refund_sale(
            uow(self.database),
            replace(command, actor=actor(step.staff), recorded_at=self.now),
            TERMS,
        )

    async def award(self, step: Step) -> None:
        chosen = tuple(
            customer_id for customer_id, enrolled_at in self.customers[step.customer % 3 :: 2]
        ) or (self.customers[0][0],)
        command = BulkAwardPoints(
            self.key(),
            chosen,
            step.amount,
            "promotion",
            f"CAMPAIGN-{step.store}" if step.store else None,
            step.at,
            actor=actor(step.staff),
            holdout_percent=step.option * 10,
        )
        job = await campaigns.bulk_award_points(uow(self.database), command)
        await self.run_awards(step.at)
        if job.holdout_customers:
            event("award with a holdout")
        if step.staff:
            later = step.at + timedelta(days=9 * step.staff)
            reversal = ReverseBulkAward(job.id, self.key(), "withdrawn", later)
            await campaigns.reverse_bulk_award(uow(self.database), reversal)
            await self.run_awards(later)
            event("award reversed")

    async def run_awards(self, now: datetime) -> None:
        await BulkAwardWorker(self.database, self.publisher, lambda: now, 50, 1).drain()

    async def expire(self, step: Step) -> None:
        policy = ExpiryPolicy(ExpiryKind.EARNED, 1)
        worker = ExpiryWorker(self.database, self.publisher, lambda: step.at, policy, 50, 1)
        await worker.expire_due()

    async def guest(self, step: Step) -> None:
        sale = RecordGuestSale(
            idempotency_key=self.key(),
            store_id=STORES[step.store],
            lines=lines_of(step),
            occurred_at=step.at,
            recorded_at=self.now,
        )
        await guests.record_guest_sale(uow(self.database), sale)

    async def adjust(self, step: Step) -> None:
        customer_id, at = self.customer(step)
        command = AdjustPoints(
            customer_id=customer_id,
            idempotency_key=self.key(),
            store_id=STORES[step.store],
            occurred_at=at,
            points=step.amount,
            reason="correction",
            actor=actor(step.staff),
            recorded_at=self.now,
        )
        await points.adjust_points(uow(self.database), command)


def differences(rollups: AnalyticsReport, raw: AnalyticsReport) -> list[str]:
    """Each part of the reports that differs, named, for a failure that says where."""
    found = []
    for part in fields(AnalyticsReport):
        mine, theirs = getattr(rollups, part.name), getattr(raw, part.name)
        if part.name == "periods":
            found += [
                f"periods[{n}]: rollups {a!r} != raw {b!r}"
                for n, (a, b) in enumerate(zip(mine, theirs, strict=False))
                if a != b
            ]
            if len(mine) != len(theirs):
                found.append(f"periods: {len(mine)} from rollups, {len(theirs)} raw")
        elif mine != theirs:
            found.append(f"{part.name}: rollups {mine!r} != raw {theirs!r}")
    return found


@settings(
    max_examples=20,
    deadline=None,
    # The database fixture is made once for the test; each example empties its tables.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    enrolments=st.lists(ENROLMENT, min_size=1, max_size=6),
    history=st.lists(STEP, min_size=4, max_size=30),
    # Three ranges of any length and one that is a whole period.
    ranges=st.tuples(st.lists(ASKED, min_size=3, max_size=3), WHOLE).map(
        lambda drawn: [*drawn[0], drawn[1]]
    ),
    # Small batches: what one batch counts depends on what earlier batches counted.
    batch_size=st.sampled_from([3, 17, 2000]),
)
async def test_rollups_answer_what_the_raw_rows_answer(
    database: Database,
    enrolments: list[Enrolment],
    history: list[Step],
    ranges: list[Asked],
    batch_size: int,
) -> None:
    await empty_tables(database)
    recorder = History(database)
    counting = RollupWorker(
        database,
        recorder.publisher,
        lambda: datetime.now(UTC),
        zones=Zones(ZONES),
        poll_seconds=1,
        batch_size=batch_size,
    )
    await recorder.record(enrolments, history, counting)
    await counting.drain()

    for asked in ranges:
        analytics = asked.range()
        async with database.reading() as session:
            rollups = await rollup_report(session, analytics, POINT_VALUE)
            raw = await raw_report(session, analytics, POINT_VALUE)
        assert differences(rollups, raw) == [], asked
        assert rollups == raw
    async with database.reading() as session:
        # A gap no customer has any more is deleted, not kept as a row of 0.
        empty = select(func.count()).select_from(RollupGapRow).where(RollupGapRow.customers <= 0)
        assert await session.scalar(empty) == 0
