"""The rollups of the benchmark's data filled set-based, in UTC, when the rollup worker would
take hours to count them (it is still what the benchmark times for catching up).

Each statement computes one rollup table from the raw rows as persistence/analytics counts
it, relying on how bench/analytics_sql.py posts entries (an entry's points are its
customer's line; a REVERSAL is a refund whose points taken back its refund row keeps).
Percentiles are percentile_cont in double precision, where the worker keeps them exact.
The first and last gaps run from and to -infinity and infinity: asyncpg's date.min and
date.max, which the worker writes for 0001-01-01 and 9999-12-31.
"""

from __future__ import annotations

from persistence.analytics.rebuild import ROLLUPS
from persistence.analytics.tally import BINNED, BINNED_BY
from persistence.base import table_of
from persistence.models import AnalyticsInboxRow

UTC_DAY = "(({column}) AT TIME ZONE 'UTC')::date"
SCOPES = "CROSS JOIN LATERAL (VALUES (x.store_id), ('*')) AS s(scope)"
GRANULARITIES = """CROSS JOIN LATERAL (VALUES
    ('DAY', x.day), ('WEEK', date_trunc('week', x.day)::date),
    ('MONTH', date_trunc('month', x.day)::date)) AS g(granularity, period)"""
# Values seen are kept by quarter and year too (persistence/analytics/tally.py).
VALUE_GRANULARITIES = """CROSS JOIN LATERAL (VALUES
    ('DAY', x.day), ('WEEK', date_trunc('week', x.day)::date),
    ('MONTH', date_trunc('month', x.day)::date), ('QUARTER', date_trunc('quarter', x.day)::date),
    ('YEAR', date_trunc('year', x.day)::date)) AS g(granularity, period)"""
ADDED = """CROSS JOIN LATERAL (VALUES ('DAY', x.day), ('MONTH', date_trunc('month', x.day)::date))
    AS g(granularity, period)"""


def _empty() -> str:
    names = [table_of(model).name for model in (*ROLLUPS, AnalyticsInboxRow)]
    return f"TRUNCATE {', '.join(names)}"


# decimal's significant(v, 3) with ROUND_HALF_EVEN, as one expression PostgreSQL inlines,
# the exponent from the digits' text (numeric log costs ~100 us a call: minutes here).
EXPONENT = """(CASE WHEN v >= 1 THEN length(trunc(v)::text) - 1
    ELSE -(length(substring(v::text from '\\.(0*)')) + 1) END)"""
SCALE = f"power(10::numeric, 2 - {EXPONENT})"
SCALED = f"(v * {SCALE})"
SIGNIFICANT = f"""
CREATE OR REPLACE FUNCTION bench_significant(v numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
SELECT CASE WHEN v = 0 THEN 0::numeric ELSE
    (CASE WHEN {SCALED} - floor({SCALED}) = 0.5 THEN floor({SCALED}) + mod(floor({SCALED}), 2)
          ELSE round({SCALED}) END) / {SCALE}
END $$"""

# One row per fact of a store (or of none) and local day, summed by day and month below.
TOTALS = f"""
INSERT INTO rollup_totals (zone, granularity, period, scope, sales, sales_with_redemption,
    checkouts, points_earned, points_awarded, points_redeemed, points_expired,
    points_reversed, net_points, revenue, new_customers, redemptions, guest_sales,
    guest_revenue)
SELECT 'UTC', g.granularity, g.period, s.scope, sum(sales), sum(with_redemption),
    sum(checkouts), sum(earned), sum(awarded), sum(redeemed), sum(expired), sum(reversed),
    sum(net), sum(revenue), sum(enrolled), sum(redemptions), sum(guests), sum(guest_revenue)
FROM (
    SELECT {UTC_DAY.format(column="occurred_at")} AS day, store_id, 1 AS sales,
        (points_redeemed > 0 OR redeem_entry_id IS NOT NULL)::int AS with_redemption,
        is_checkout::int AS checkouts, 0 AS earned, 0 AS awarded, 0 AS redeemed,
        0 AS expired, 0 AS reversed, 0 AS net, total - coalesce(discount, 0) AS revenue,
        0 AS enrolled, 0 AS redemptions, 0 AS guests, 0 AS guest_revenue
    FROM sales
    UNION ALL
    SELECT {UTC_DAY.format(column="e.occurred_at")}, e.store_id, 0, 0, 0,
        CASE WHEN e.kind = 'EARN' THEN e.points ELSE 0 END,
        CASE WHEN e.kind = 'BULK_AWARD' THEN e.points ELSE 0 END,
        CASE WHEN e.kind = 'REDEEM' THEN -e.points ELSE 0 END,
        CASE WHEN e.kind = 'EXPIRE' THEN -e.points ELSE 0 END,
        coalesce(r.points_taken_back, 0), 0, 0, 0, (e.kind = 'REDEEM')::int, 0, 0
    FROM journal_entries AS e LEFT JOIN refunds AS r ON r.entry_id = e.id
    WHERE e.kind <> 'ADJUST'
    UNION ALL
    SELECT {UTC_DAY.format(column="occurred_at")}, NULL, 0, 0, 0, 0, 0, 0, 0, 0,
        sum(points), 0, 0, 0, 0, 0
    FROM journal_entries GROUP BY 1
    UNION ALL
    SELECT {UTC_DAY.format(column="enrolled_at")}, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        count(*), 0, 0, 0
    FROM customers GROUP BY 1
    UNION ALL
    SELECT {UTC_DAY.format(column="occurred_at")}, store_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 1, total
    FROM guest_sales
) AS x {SCOPES} {ADDED}
WHERE s.scope IS NOT NULL
GROUP BY g.granularity, g.period, s.scope"""

STAFF = f"""
INSERT INTO rollup_staff (zone, granularity, period, staff_id, store_id, enrolments, sales,
    points_issued, points_redeemed, refunds, adjustments)
SELECT 'UTC', g.granularity, g.period, x.staff, x.store_id, sum(enrolments), sum(sales),
    sum(issued), sum(redeemed), sum(refunds), sum(adjustments)
FROM (
    SELECT {UTC_DAY.format(column="enrolled_at")} AS day, enrolled_by_staff AS staff,
        coalesce(enrolled_store_id, '') AS store_id, 1 AS enrolments, 0 AS sales,
        0 AS issued, 0 AS redeemed, 0 AS refunds, 0 AS adjustments
    FROM customers WHERE enrolled_by_staff IS NOT NULL
    UNION ALL
    SELECT {UTC_DAY.format(column="occurred_at")}, recorded_by_staff, store_id, 0, 1, points,
        0, 0, 0
    FROM sales WHERE recorded_by_staff IS NOT NULL
    UNION ALL
    SELECT {UTC_DAY.format(column="e.occurred_at")}, e.recorded_by_staff,
        coalesce(e.store_id, ''), 0, 0, 0,
        CASE WHEN e.kind = 'REDEEM' THEN -e.points ELSE 0 END,
        (r.entry_id IS NOT NULL)::int, (e.kind = 'ADJUST')::int
    FROM journal_entries AS e LEFT JOIN refunds AS r ON r.entry_id = e.id
    WHERE e.recorded_by_staff IS NOT NULL
      AND (e.kind IN ('REDEEM', 'ADJUST') OR r.entry_id IS NOT NULL)
) AS x {ADDED}
GROUP BY g.granularity, g.period, x.staff, x.store_id"""

REWARDS = f"""
INSERT INTO rollup_rewards (zone, granularity, period, scope, reward, redemptions, points)
SELECT 'UTC', g.granularity, g.period, s.scope, w.reward, count(*), sum(-x.points)
FROM (
    SELECT {UTC_DAY.format(column="occurred_at")} AS day, store_id, reward_id, points
    FROM journal_entries WHERE kind = 'REDEEM'
) AS x {SCOPES} {ADDED}
CROSS JOIN LATERAL (VALUES (coalesce(x.reward_id, '')), ('*')) AS w(reward)
WHERE s.scope IS NOT NULL
GROUP BY g.granularity, g.period, s.scope, w.reward"""

# Each value seen once: checkout times, and each redemption's points-weighted age in days.
SEEN = f"""
CREATE TEMP TABLE seen AS
SELECT {UTC_DAY.format(column="occurred_at")} AS day, store_id, 'CHECKOUT_MS' AS metric,
    '' AS key, bench_significant(processing_ms) AS value
FROM sales WHERE is_checkout AND processing_ms IS NOT NULL
UNION ALL
SELECT a.day, a.store_id, 'REDEMPTION_DAYS', k.key, a.value
FROM (
    SELECT {UTC_DAY.format(column="e.occurred_at")} AS day, e.store_id, e.reward_id,
        bench_significant(sum(l.points * greatest(0, extract(epoch FROM l.spent_at - l.earned_at)))
            / sum(l.points) / 86400) AS value
    FROM journal_entries AS e JOIN lot_spends AS l ON l.entry_id = e.id
    WHERE e.kind = 'REDEEM'
    GROUP BY e.id
    HAVING sum(l.points) > 0
) AS a CROSS JOIN LATERAL (VALUES (coalesce(a.reward_id, '')), ('*')) AS k(key)"""

VALUES_ = f"""
INSERT INTO rollup_values (zone, granularity, period, scope, metric, key, value, count)
SELECT 'UTC', g.granularity, g.period, s.scope, x.metric, x.key, x.value, count(*)
FROM seen AS x {SCOPES} {VALUE_GRANULARITIES}
WHERE s.scope IS NOT NULL
GROUP BY g.granularity, g.period, s.scope, x.metric, x.key, x.value"""

# Each value's bin (domain.analytics.value_bin: cut down to two significant figures).
BIN = f"""
CREATE OR REPLACE FUNCTION bench_bin(v numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
SELECT CASE WHEN v = 0 THEN 0::numeric ELSE
    floor(v * power(10::numeric, 1 - {EXPONENT})) / power(10::numeric, 1 - {EXPONENT})
END $$"""
BIN_NAMES = " ".join(f"WHEN '{metric}' THEN '{name}'" for metric, name in BINNED.items())
BINNED_METRICS = ", ".join(f"'{metric}'" for metric in BINNED)
BINNED_GRANULARITIES = ", ".join(f"'{granularity}'" for granularity in sorted(BINNED_BY))
BINS = f"""
INSERT INTO rollup_values (zone, granularity, period, scope, metric, key, value, count)
SELECT zone, granularity, period, scope, CASE metric {BIN_NAMES} END, key, bench_bin(value),
    sum(count)
FROM rollup_values
WHERE metric IN ({BINNED_METRICS}) AND granularity IN ({BINNED_GRANULARITIES})
GROUP BY 1, 2, 3, 4, 5, 6, 7"""

PERCENTILES = f"""
INSERT INTO rollup_percentiles (zone, granularity, period, scope, metric, key, count, p50,
    p90, p95)
SELECT 'UTC', g.granularity, g.period, s.scope, x.metric, x.key, count(*),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY x.value::float8)::numeric,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY x.value::float8)::numeric,
    percentile_cont(0.95) WITHIN GROUP (ORDER BY x.value::float8)::numeric
FROM seen AS x {SCOPES} {GRANULARITIES}
WHERE s.scope IS NOT NULL
GROUP BY g.granularity, g.period, s.scope, x.metric, x.key"""

CUSTOMER_PERIODS = f"""
INSERT INTO rollup_customer_periods (zone, granularity, scope, customer_id, period)
SELECT DISTINCT 'UTC', g.granularity, s.scope, x.customer_id, g.period
FROM (SELECT DISTINCT customer_id, store_id, {UTC_DAY.format(column="occurred_at")} AS day
      FROM sales) AS x {SCOPES} {GRANULARITIES}
WHERE s.scope IS NOT NULL"""

PREVIOUS = """CASE granularity WHEN 'DAY' THEN period - 1 WHEN 'WEEK' THEN period - 7
    ELSE (period - interval '1 month')::date END"""

ACTIVITY = f"""
INSERT INTO rollup_activity (zone, granularity, period, scope, active, retained)
SELECT 'UTC', granularity, period, scope, count(*), count(*) FILTER (WHERE before = previous)
FROM (
    SELECT granularity, period, scope, {PREVIOUS} AS previous,
        lag(period) OVER (PARTITION BY granularity, scope, customer_id ORDER BY period)
            AS before
    FROM rollup_customer_periods
) AS x
GROUP BY granularity, period, scope"""

GAPS = """
INSERT INTO rollup_gaps (zone, scope, after, before, customers)
SELECT 'UTC', scope, after, before, count(*)
FROM (
    SELECT scope, coalesce(lag(period) OVER w, DATE '-infinity') AS after, period AS before
    FROM rollup_customer_periods WHERE granularity = 'DAY'
    WINDOW w AS (PARTITION BY scope, customer_id ORDER BY period)
    UNION ALL
    SELECT scope, max(period), DATE 'infinity'
    FROM rollup_customer_periods WHERE granularity = 'DAY' GROUP BY scope, customer_id
) AS x
GROUP BY scope, after, before"""

COHORTS = f"""
INSERT INTO rollup_cohorts (zone, scope, cohort, month, customers)
SELECT 'UTC', p.scope, date_trunc('month', {UTC_DAY.format(column="c.enrolled_at")})::date,
    p.period, count(*)
FROM rollup_customer_periods AS p JOIN customers AS c ON c.id = p.customer_id
WHERE p.granularity = 'MONTH'
GROUP BY 1, 2, 3, 4"""

LIVES = """
INSERT INTO rollup_customers (customer_id, sales, revenue, points_earned, points_redeemed)
SELECT c.id, coalesce(s.sales, 0), coalesce(s.revenue, 0), coalesce(e.earned, 0),
    coalesce(e.redeemed, 0)
FROM customers AS c
LEFT JOIN (SELECT customer_id, count(*) AS sales, sum(total - coalesce(discount, 0)) AS revenue
           FROM sales GROUP BY customer_id) AS s ON s.customer_id = c.id
LEFT JOIN (SELECT customer_id,
               sum(points) FILTER (WHERE kind = 'EARN') AS earned,
               -sum(points) FILTER (WHERE kind = 'REDEEM') AS redeemed
           FROM journal_entries WHERE kind IN ('EARN', 'REDEEM')
           GROUP BY customer_id) AS e ON e.customer_id = c.id"""

SEGMENTS = """
INSERT INTO rollup_segments (participation, customers, sales, revenue, repeaters, x, y, xx,
    yy, xy)
SELECT participation, count(*), sum(sales), sum(revenue), count(*) FILTER (WHERE sales >= 2),
    sum(x), sum(sales), sum(x * x), sum(sales * sales), sum(x * sales)
FROM (
    SELECT CASE WHEN points_redeemed <> 0 THEN 'REDEEMER'
                WHEN sales <> 0 THEN 'EARN_ONLY' ELSE 'INACTIVE' END AS participation,
        sales::numeric AS sales, revenue, (points_earned + points_redeemed)::numeric AS x
    FROM rollup_customers
) AS c
GROUP BY participation"""

CAMPAIGN_SALES = """
INSERT INTO rollup_campaign_sales (bulk_award_id, sale_id, holdout, occurred_at, revenue)
SELECT r.bulk_award_id, s.id, r.status = 'HOLDOUT', s.occurred_at,
    s.total - coalesce(s.discount, 0)
FROM bulk_award_recipients AS r
JOIN bulk_awards AS b ON b.id = r.bulk_award_id AND b.reverses_bulk_award_id IS NULL
JOIN sales AS s ON s.customer_id = r.customer_id
WHERE r.status <> 'FAILED'"""

CAMPAIGN_SPENDS = """
INSERT INTO rollup_campaign_spends (bulk_award_id, entry_id, spent_at, points)
SELECT r.bulk_award_id, l.entry_id, e.occurred_at, sum(l.points)
FROM lot_spends AS l
JOIN bulk_award_recipients AS r ON r.entry_id = l.lot_entry_id
JOIN journal_entries AS e ON e.id = l.entry_id AND e.kind = 'REDEEM'
GROUP BY r.bulk_award_id, l.entry_id, e.occurred_at"""

CAMPAIGN_DAYS = f"""
INSERT INTO rollup_campaign_days (zone, bulk_award_id, holdout, day, revenue, points_spent)
SELECT 'UTC', bulk_award_id, holdout, day, sum(revenue), sum(points_spent)
FROM (
    SELECT bulk_award_id, holdout, {UTC_DAY.format(column="occurred_at")} AS day, revenue,
        0 AS points_spent
    FROM rollup_campaign_sales
    UNION ALL
    SELECT bulk_award_id, false, {UTC_DAY.format(column="spent_at")}, 0, points
    FROM rollup_campaign_spends
) AS x
GROUP BY bulk_award_id, holdout, day"""

FILL = [
    ("emptying the rollups and the inbox", _empty()),
    ("totals", SIGNIFICANT),
    ("totals", TOTALS),
    ("staff", STAFF),
    ("rewards", REWARDS),
    ("values seen", "DROP TABLE IF EXISTS seen"),
    ("values seen", SEEN),
    ("values", VALUES_),
    ("bins", BIN),
    ("bins", BINS),
    ("percentiles", PERCENTILES),
    ("customer periods", CUSTOMER_PERIODS),
    ("activity", ACTIVITY),
    ("gaps", GAPS),
    ("cohorts", COHORTS),
    ("customers", LIVES),
    ("segments", SEGMENTS),
    ("campaign sales", CAMPAIGN_SALES),
    ("campaign spends", CAMPAIGN_SPENDS),
    ("campaign days", CAMPAIGN_DAYS),
    ("analyze", "ANALYZE"),
]
