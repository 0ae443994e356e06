"""The analytics benchmark's data, generated set-based in PostgreSQL, a month per transaction.

Every month chunk writes its journal entries with their lines (as the domain posts them),
sales, redemptions, lot spends, refunds, guest sales and any bulk award of that month, and
records itself in `bench_progress` in the same transaction: an interrupted run loses at
most the month under way and resumes after the last month recorded. sale_lines and
earn_contributions are not generated (analytics read neither); balances are not replayed
from the journal, but every customer's balance is set to max(0, sum of their entries).
"""

from __future__ import annotations

import json
import math
import random
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from analytics_sql import ACTIVITY_SQL, AWARD_SQL
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.ledger import ADJUSTMENTS, BREAKAGE, POINTS_ISSUED, POINTS_REDEEMED

# Shares of the journal's entries: EARN 60, REDEEM 20 (7.5 at checkouts), BULK_AWARD 8,
# REVERSAL 5, EXPIRE 4, ADJUST 3. A store's "primary" events are sales, standalone
# redemptions and adjustments; checkout redemptions and refunds come from the sales.
PRIMARY_PER_ACTIVITY = 75.5 / 88
SALE_SHARE, REDEEM_SHARE = 60 / 75.5, 12.5 / 75.5
REFUND_SHARE = 5 / 60
ACTIVITY, AWARDS, EXPIRY, GUESTS = 0.88, 0.08, 0.04, 0.02
CAMPAIGNS = 8
REWARD_COSTS = (100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500)
SLOTS = 1000
WEEKDAY = (0.85, 0.85, 0.9, 1.0, 1.2, 1.4, 0.8)
ACCOUNTS = {
    "issued": POINTS_ISSUED,
    "redeemed": POINTS_REDEEMED,
    "adjustments": ADJUSTMENTS,
    "breakage": BREAKAGE,
}


@dataclass(frozen=True)
class Plan:
    """What to generate: recorded on the first run, checked on every later one."""

    entries: int
    customers: int
    stores: int
    days: int
    end: str  # ISO date: the window is [end - days, end), UTC midnights

    @property
    def end_at(self) -> datetime:
        return datetime.combine(date.fromisoformat(self.end), datetime.min.time(), UTC)

    @property
    def start_at(self) -> datetime:
        return self.end_at - timedelta(days=self.days)

    def weight(self, day: date) -> float:
        """A day's share of activity: weekday, season (December peak) and growth."""
        season = 1 + 0.2 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 350) / 365)
        growth = 0.8 + 0.4 * (day - self.start_at.date()).days / self.days
        return WEEKDAY[day.weekday()] * season * growth

    def every_day(self) -> list[date]:
        first = self.start_at.date()
        return [first + timedelta(days=n) for n in range(self.days)]

    def chunks(self) -> list[tuple[str, list[date]]]:
        """The window's days by calendar month."""
        months: dict[str, list[date]] = {}
        for day in self.every_day():
            months.setdefault(day.strftime("%Y-%m"), []).append(day)
        return list(months.items())

    def campaigns(self) -> list[Campaign]:
        recipients = self.entries * AWARDS / CAMPAIGNS
        return [
            Campaign(
                id=str(uuid.UUID(int=random.Random(k).getrandbits(128))),
                campaign_id=f"BENCH-{k + 1}",
                at=self.start_at + timedelta(days=int(self.days * (k + 0.5) / CAMPAIGNS), hours=6),
                points=100 + 50 * (k % 4),
                segment=recipients / (1 - 0.1),
            )
            for k in range(CAMPAIGNS)
        ]


@dataclass(frozen=True)
class Campaign:
    id: str
    campaign_id: str
    at: datetime
    points: int
    segment: float  # customers in its segment, holdout included


def store_slots(stores: int) -> list[str]:
    """SLOTS store ids, each store as often as its size (a few big, many small)."""
    ids = [f"S{n + 1:02d}" for n in range(stores)]
    weights = [1 / (rank + 1) ** 0.8 for rank in range(stores)]
    total = sum(weights)
    slots = [
        store
        for store, w in zip(ids, weights, strict=True)
        for _ in range(round(w / total * SLOTS))
    ]
    return (slots + ids * SLOTS)[:SLOTS]


SETUP = [
    """CREATE TABLE IF NOT EXISTS bench_progress (
        step text PRIMARY KEY, detail text NOT NULL DEFAULT '',
        done_at timestamptz NOT NULL DEFAULT clock_timestamp())""",
]


def functions(plan: Plan) -> list[str]:
    """Customer n's id, and how many customers had enrolled by an instant: 40% over the
    window's length before it, the rest evenly across it (customer n enrols before n+1)."""
    before = round(plan.customers * 0.4)
    after = plan.customers - before
    span = plan.days * 86_400
    start = f"'{plan.start_at.isoformat()}'::timestamptz"
    return [
        """CREATE OR REPLACE FUNCTION bench_customer(n bigint) RETURNS text
           LANGUAGE sql IMMUTABLE PARALLEL SAFE
           AS $$ SELECT md5('bench-customer-' || n)::uuid::text $$""",
        f"""CREATE OR REPLACE FUNCTION bench_enrolled(at timestamptz) RETURNS bigint
           LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
           SELECT CASE WHEN at < {start}
             THEN greatest(1, floor({before} * extract(epoch FROM at - {start}
                  + interval '{plan.days} days') / {span}))
             ELSE least({plan.customers},
                  {before} + floor({after} * extract(epoch FROM at - {start}) / {span}))
           END::bigint $$""",
        f"""CREATE OR REPLACE FUNCTION bench_enrolled_at(n bigint) RETURNS timestamptz
           LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
           SELECT CASE WHEN n < {before}
             THEN {start} - interval '{plan.days} days'
                  + make_interval(secs => (n + 0.5) * {span}::float8 / {before})
             ELSE {start} + make_interval(secs => (n - {before} + 0.5) * {span}::float8 / {after})
           END $$""",
        """CREATE OR REPLACE FUNCTION bench_normal() RETURNS float8 LANGUAGE sql VOLATILE
           AS $$ SELECT sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) $$""",
    ]


async def setup(connection: AsyncConnection, plan: Plan) -> None:
    """Stores, rewards and customers, once."""
    slots = store_slots(plan.stores)
    now = plan.start_at - timedelta(days=plan.days)
    for n in range(plan.stores):
        await connection.execute(
            text("INSERT INTO stores (id, name, created_at) VALUES (:id, :name, :at)"),
            {"id": f"S{n + 1:02d}", "name": f"Bench store {n + 1}", "at": now},
        )
    for n, cost in enumerate(REWARD_COSTS):
        await connection.execute(
            text(
                "INSERT INTO rewards (id, name, points_cost, active, created_at, kind)"
                " VALUES (:id, :name, :cost, true, :at, 'VOUCHER')"
            ),
            {"id": f"R{n + 1:02d}", "name": f"Reward {n + 1}", "cost": cost, "at": now},
        )
    await connection.execute(
        text(
            """INSERT INTO customers (id, card_number, balance, balance_version, lifetime_earned,
                 points_owed, enrolled_at, enrolled_by_staff, enrolled_store_id)
               SELECT bench_customer(n), 'BENCH' || lpad(n::text, 9, '0'), 0, 0, 0, 0,
                 bench_enrolled_at(n),
                 CASE WHEN s IS NOT NULL THEN 'cashier-' || s || '-' || (1 + n % 8) END, s
               FROM (SELECT n, CASE WHEN random() < 0.35
                       THEN (CAST(:slots AS text[]))[1 + floor(random() * 1000)::int] END AS s
                     FROM generate_series(0, :customers - 1) AS n) AS c"""
        ),
        {"slots": slots, "customers": plan.customers},
    )


def day_counts(plan: Plan, days: list[date]) -> dict[str, list[int]]:
    """Primary events, expiries and guest sales of each day."""
    every = plan.every_day()
    total_weight = sum(plan.weight(day) for day in every)
    activity = plan.entries * ACTIVITY
    shares = [plan.weight(day) / total_weight for day in days]
    return {
        "primary": [round(activity * PRIMARY_PER_ACTIVITY * s) for s in shares],
        "expiring": [round(plan.entries * EXPIRY / plan.days) for _ in days],
        "guests": [round(plan.entries * GUESTS * s) for s in shares],
    }


def fresh_day_counts(entries: int) -> dict[str, list[int]]:
    """A day after the window: its share of entries without bulk awards."""
    rest = 1 - AWARDS
    return {
        "primary": [round(entries * ACTIVITY / rest * PRIMARY_PER_ACTIVITY)],
        "expiring": [round(entries * EXPIRY / rest)],
        "guests": [round(entries * GUESTS)],
    }


async def run_all(
    connection: AsyncConnection, statements: list[str], values: dict[str, Any]
) -> None:
    for statement in statements:
        await connection.execute(text(statement), values)


async def generate_days(
    connection: AsyncConnection,
    plan: Plan,
    days: list[date],
    counts: dict[str, list[int]],
    *,
    seed: float,
    window_end: datetime | None = None,
) -> None:
    """One transaction's worth: the campaigns of these days, then the stores' activity
    (refunds up to two weeks later, before `window_end`)."""
    await connection.execute(text("SELECT setseed(:seed)"), {"seed": seed})
    first = datetime.combine(days[0], datetime.min.time(), UTC)
    end = first + timedelta(days=len(days))
    for campaign in plan.campaigns():
        if first <= campaign.at < end:
            await award(connection, campaign)
    values = {
        "days": days,
        "primary": counts["primary"],
        "expiring": counts["expiring"],
        "guests": counts["guests"],
        "slots": store_slots(plan.stores),
        "window_end": window_end or plan.end_at,
        **ACCOUNTS,
    }
    await run_all(connection, ACTIVITY_SQL, values)


async def award(connection: AsyncConnection, campaign: Campaign) -> None:
    enrolled = await connection.scalar(text("SELECT bench_enrolled(:at)"), {"at": campaign.at})
    values = {
        **asdict(campaign),
        "share": min(1.0, campaign.segment / max(1, int(enrolled or 1))),
        "key": f"bench-award-{campaign.id}",
        "account": f"programme:promotions:{campaign.campaign_id}",
        "completed": campaign.at + timedelta(minutes=5),
    }
    await run_all(connection, AWARD_SQL, values)


async def recorded_plan(connection: AsyncConnection) -> Plan | None:
    found = await connection.scalar(text("SELECT detail FROM bench_progress WHERE step = 'plan'"))
    return None if found is None else Plan(**json.loads(str(found)))


async def record(connection: AsyncConnection, step: str, detail: str = "") -> None:
    await connection.execute(
        text(
            "INSERT INTO bench_progress (step, detail) VALUES (:step, :detail)"
            " ON CONFLICT (step) DO UPDATE SET detail = excluded.detail,"
            " done_at = clock_timestamp()"
        ),
        {"step": step, "detail": detail},
    )


async def done_steps(connection: AsyncConnection) -> set[str]:
    rows = await connection.execute(text("SELECT step FROM bench_progress"))
    return {str(step) for (step,) in rows.all()}


async def prepare(connection: AsyncConnection, plan: Plan) -> None:
    """The progress table, the helper functions and the plan, once."""
    await run_all(connection, SETUP, {})
    known = await recorded_plan(connection)
    if known is not None and known != plan:
        raise SystemExit(
            f"this database holds another plan ({known}); drop it or pass the same arguments"
        )
    await run_all(connection, functions(plan), {})
    if known is None:
        await record(connection, "plan", json.dumps(asdict(plan)))


BALANCES = """
    UPDATE customers AS c
    SET balance = greatest(0, s.points), balance_version = s.entries,
        lifetime_earned = s.earned
    FROM (SELECT customer_id, sum(points) AS points, count(*) AS entries,
                 sum(greatest(points, 0)) AS earned
          FROM journal_entries GROUP BY customer_id) AS s
    WHERE c.id = s.customer_id"""
