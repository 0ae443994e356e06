"""The analytics report from the raw rows, on a handful of movements whose figures are
worked out by hand below: a readable example of what each figure counts.

The history (UTC; the range runs from Wednesday 4 to Monday 16 November 2026):
   1 Sep  C enrolled; C never buys
  20 Oct  A enrolled by ann at S1
  30 Oct  A earns 20 at S1 (ann), 20.00 paid: before the range
   5 Nov  B enrolled by bob, under a token of no single store
   5 Nov  A checks out 30.00 at S1 (ann, 09:00, 1.5 s at the till) with COFFEE: 10 points
          for 2.00 off, so 28.00 paid and 28 earned
   6 Nov  a guest buys 7.25 at S1; WINTER awards 50 to A and to B at 12:00
  10 Nov  B earns 15 at S2 (bob) at 23:30, 15.50 paid: already 11 November in Kolkata
  11 Nov  A redeems 45 points at S2 (cat) as money off
  12 Nov  bob refunds B's sale at S2 (15 taken back); dan adjusts A by +3 at S1
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.analytics import (
    AnalyticsRange,
    AnalyticsReport,
    CampaignFigures,
    CheckoutComparison,
    Cohort,
    Flow,
    Granularity,
    LifetimeValue,
    Moments,
    Participation,
    Percentiles,
    PeriodFigures,
    RewardVelocity,
    Segment,
    StaffFigures,
)
from domain.campaigns import BulkAwardPoints
from domain.customers import EnrollCustomer, Identifiers
from domain.guests import RecordGuestSale
from domain.ledger import Actor
from domain.points import AdjustPoints, Checkout
from domain.programme import Terms
from domain.rewards import Reward, RewardKind
from domain.use_cases import campaigns, customers, guests, points
from persistence.analytics.raw import raw_report
from persistence.database import Database
from subscriptions.broker import InProcessBroker
from subscriptions.hub import Hub
from tests.programme import add_reward
from tests.use_cases import earning, open_store, redeeming, refunding, sale_line, uow
from workers.campaigns import BulkAwardWorker

TERMS = Terms(base_rate=Decimal(1))
POINT_VALUE = Decimal("0.01")
AWARDED_AT = datetime(2026, 11, 6, 12, 0, tzinfo=UTC)
COFFEE = Reward(
    "COFFEE", "Coffee", 10, kind=RewardKind.FIXED_DISCOUNT, discount_amount=Decimal("2.00")
)


def at(day: int, hour: int = 12, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


START, END = at(4, 0), at(16, 0)


def by(staff_id: str) -> Actor:
    return Actor(staff_id, "cashier", "T1")


def once(value: str) -> Percentiles:
    return Percentiles(1, Decimal(value), Decimal(value), Decimal(value))


async def enrol(database: Database, card: str, when: datetime, staff: str | None) -> str:
    store = "S1" if staff == "ann" else None
    command = EnrollCustomer(None, Identifiers(card_number=card), when, staff, store)
    return (await customers.enroll_customer(uow(database), command)).id


async def record_history(database: Database) -> str:
    """The history above; the id of WINTER's job."""
    await open_store(database, "S1")
    await open_store(database, "S2", "North")
    await add_reward(database, COFFEE)
    a = await enrol(database, "A", at(20, month=10), "ann")
    b = await enrol(database, "B", at(5, 10), "bob")
    await enrol(database, "C", at(1, month=9), None)
    first = earning(a, "a-1", (sale_line("20"),), at(30, month=10), actor=by("ann"))
    await points.earn_points(uow(database), first, TERMS)
    checkout = Checkout(
        customer_id=a,
        idempotency_key="a-2",
        store_id="S1",
        lines=(sale_line("30"),),
        occurred_at=at(5, 9),
        started_at=at(5, 9) - timedelta(milliseconds=1500),
        reward_id="COFFEE",
        actor=by("ann"),
    )
    await points.checkout(uow(database), checkout, TERMS)
    guest = RecordGuestSale(
        idempotency_key="g-1",
        store_id="S1",
        lines=(sale_line("7.25"),),
        occurred_at=at(6, 10),
        recorded_at=at(6, 10),
    )
    await guests.record_guest_sale(uow(database), guest)
    award = BulkAwardPoints("w-1", (a, b), 50, "winter", "WINTER", AWARDED_AT)
    job = await campaigns.bulk_award_points(uow(database), award)
    await BulkAwardWorker(database, InProcessBroker(Hub()), lambda: AWARDED_AT, 100, 1).drain()
    sale = earning(b, "b-1", (sale_line("15.50"),), at(10, 23, 30), "S2", actor=by("bob"))
    earned = await points.earn_points(uow(database), sale, TERMS)
    spent = redeeming(a, "a-3", 45, at(11), "S2", actor=by("cat"))
    await points.redeem_points(uow(database), spent, TERMS)
    refund = replace(refunding(earned.posted.id, "b-2", at(12, 10), store_id="S2"), actor=by("bob"))
    await points.refund_sale(uow(database), refund, TERMS)
    adjust = AdjustPoints(
        customer_id=a,
        idempotency_key="a-4",
        store_id="S1",
        occurred_at=at(12, 11),
        points=3,
        reason="goodwill",
        actor=by("dan"),
    )
    await points.adjust_points(uow(database), adjust)
    return job.id


async def report(
    database: Database,
    stores: frozenset[str] | None = None,
    *,
    zone: str = "UTC",
    start: datetime = START,
    end: datetime = END,
    granularity: Granularity = Granularity.WEEK,
) -> AnalyticsReport:
    asked = AnalyticsRange(start, end, granularity, zone, stores)
    async with database.reading() as session:
        return await raw_report(session, asked, POINT_VALUE)


# A redemption's age is the points-weighted mean age of what it spent, oldest first: the
# checkout's 10 points came from the 30 October lot, 5 days 21 hours old (5.875: 5.88 to
# three figures); the 45 points of 11 November took 10 of that lot (12 days old), the 28
# earned on 5 November (6.125 days) and 7 of WINTER's 50 (5 days): 326.5 / 45 = 7.26.


async def test_every_figure_of_a_small_history(database: Database) -> None:
    job = await record_history(database)

    found = await report(database)

    # A after each movement: 20, 10 (coffee), 38, 88 (award), 43, 46 (adjust); B: 50, 65,
    # 50 (refund). So 138 at the end of the first week, 96 at the end.
    expected = AnalyticsReport(
        totals=PeriodFigures(
            start=at(4, 0),
            end=at(16, 0),
            flow=Flow(
                sales=2,
                sales_with_redemption=1,
                checkouts=1,
                points_earned=28 + 15,
                points_awarded=100,
                points_redeemed=10 + 45,
                points_reversed=15,
                redemptions=2,
                revenue=Decimal("43.50"),
                guest_sales=1,
                guest_revenue=Decimal("7.25"),
            ),
            # Active before: 23 October to 4 November (A on 30 October).
            active_customers=2,
            previous_active=1,
            retained_customers=1,
            new_customers=1,
            outstanding_points=96,
            outstanding_value=Decimal("0.96"),
            checkout_time=once("1500"),
            # Between 5.88 and 7.26: the median half way, the 90th at nine tenths.
            redemption_age=Percentiles(2, Decimal("6.57"), Decimal("7.122"), Decimal("7.191")),
        ),
        periods=(
            PeriodFigures(
                start=at(4, 0),
                end=at(9, 0),
                flow=Flow(
                    sales=1,
                    sales_with_redemption=1,
                    checkouts=1,
                    points_earned=28,
                    points_awarded=100,
                    points_redeemed=10,
                    redemptions=1,
                    revenue=Decimal("28.00"),
                    guest_sales=1,
                    guest_revenue=Decimal("7.25"),
                ),
                # The week before is the whole week of 26 October, outside the range.
                active_customers=1,
                previous_active=1,
                retained_customers=1,
                new_customers=1,
                outstanding_points=138,
                outstanding_value=Decimal("1.38"),
                checkout_time=once("1500"),
                redemption_age=once("5.88"),
            ),
            PeriodFigures(
                start=at(9, 0),
                end=at(16, 0),
                flow=Flow(
                    sales=1,
                    points_earned=15,
                    points_redeemed=45,
                    points_reversed=15,
                    redemptions=1,
                    revenue=Decimal("15.50"),
                ),
                # Before: the whole week of 2 November, A's checkout, not B.
                active_customers=1,
                previous_active=1,
                retained_customers=0,
                new_customers=0,
                outstanding_points=96,
                outstanding_value=Decimal("0.96"),
                checkout_time=Percentiles(),
                redemption_age=once("7.26"),
            ),
        ),
        campaigns=(
            CampaignFigures(
                bulk_award_id=job,
                campaign_id="WINTER",
                awarded_at=AWARDED_AT,
                recipients=2,
                holdout_customers=0,
                points_awarded=100,
                cost=Decimal("1.00"),
                points_redeemed=7,
                # After: 6 November 12:00 to the range's end, B's 15.50. Before: as long
                # again, from 28 October: A's 20.00 and 28.00.
                revenue_after=Decimal("15.50"),
                holdout_revenue=None,
                revenue_before=Decimal("48.00"),
            ),
        ),
        staff=(
            StaffFigures("ann", "S1", sales=1, points_issued=28, points_redeemed=10),
            StaffFigures("bob", None, enrolments=1),
            StaffFigures("bob", "S2", sales=1, points_issued=15, refunds=1),
            StaffFigures("cat", "S2", points_redeemed=45),
            StaffFigures("dan", "S1", adjustments=1),
        ),
        velocity=(
            RewardVelocity(None, 1, 45, once("7.26")),
            RewardVelocity("COFFEE", 1, 10, once("5.88")),
        ),
        # Only November's cohort starts before the range ends: B, who bought in November.
        cohorts=(Cohort(at(1, 0), 1, (1,)),),
        lifetime=LifetimeValue(
            # A: 2 sales, 48.00, earned 48, redeemed 55; B: 1 sale, 15.50, earned 15; C: none.
            segments=(
                Segment(Participation.REDEEMER, 1, 2, Decimal("48.00"), 1),
                Segment(Participation.EARN_ONLY, 1, 1, Decimal("15.50"), 0),
                Segment(Participation.INACTIVE, 1, 0, Decimal(0), 0),
            ),
            moments=Moments(n=3, x=103 + 15, y=3, xx=103**2 + 15**2, yy=5, xy=103 * 2 + 15),
            member_sales=2,
            member_revenue=Decimal("43.50"),
            guest_sales=1,
            guest_revenue=Decimal("7.25"),
        ),
        checkout=CheckoutComparison(now=once("1500"), earlier=Percentiles()),
    )
    assert found == expected


async def test_a_store_filter_narrows_movements_but_not_balances_or_enrolments(
    database: Database,
) -> None:
    await record_history(database)

    found = await report(database, frozenset({"S2"}))

    assert found.totals.flow == Flow(
        sales=1,
        points_earned=15,
        points_redeemed=45,
        points_reversed=15,
        redemptions=1,
        revenue=Decimal("15.50"),
    )
    totals = found.totals
    assert (totals.active_customers, totals.previous_active, totals.retained_customers) == (1, 0, 0)
    assert (totals.new_customers, totals.outstanding_points) == (1, 96)
    assert [p.outstanding_points for p in found.periods] == [138, 96]
    # bob's enrolment under a token of no single store belongs to no store: left out.
    assert found.staff == (
        StaffFigures("bob", "S2", sales=1, points_issued=15, refunds=1),
        StaffFigures("cat", "S2", points_redeemed=45),
    )
    assert found.velocity == (RewardVelocity(None, 1, 45, once("7.26")),)
    assert found.campaigns == (await report(database)).campaigns


async def test_days_are_cut_in_the_range_time_zone(database: Database) -> None:
    await record_history(database)
    kolkata_midnight = timedelta(hours=5, minutes=30)

    found = await report(
        database,
        zone="Asia/Kolkata",
        start=at(10, 0) - kolkata_midnight,
        end=at(12, 0) - kolkata_midnight,
        granularity=Granularity.DAY,
    )

    # B's sale at 23:30 UTC on the 10th is 05:00 on the 11th in Kolkata.
    assert [p.flow.sales for p in found.periods] == [0, 1]
    assert [p.flow.redemptions for p in found.periods] == [0, 1]
    assert found.periods[1].start == at(11, 0) - kolkata_midnight
