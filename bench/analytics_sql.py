"""The set-based statements that write a chunk of the analytics benchmark's data.

`ev` holds a chunk's store events (sales, standalone redemptions, adjustments), each with
the ids of the entries it posts: a checkout that spends points posts a REDEEM entry before
its EARN entry, as the checkout use case does. Lines follow domain/accounts.py: EARN
credits the customer and debits points-issued, REDEEM debits the customer and credits
points-redeemed, ADJUST moves points against adjustments, a refund (REVERSAL) credits
points-issued with what it takes back and debits points-redeemed with what it gives back,
EXPIRE credits breakage, BULK_AWARD debits the campaign's promotions account.
"""

from __future__ import annotations

SALE = 60 / 75.5
SALE_OR_REDEEM = (60 + 12.5) / 75.5
REFUNDED = 5 / 60
CUSTOMER = "'customer:' || customer"
ENTRY_COLUMNS = """id, kind, customer_id, points, balance_after, balance_version, store_id,
    terminal_id, sale_id, idempotency_key, reward_id, reason, recorded_by_staff,
    recorded_by_role, recorded_by_terminal, created_at, occurred_at, reverses_entry_id"""

EVENTS = f"""
CREATE TEMP TABLE ev ON COMMIT DROP AS
WITH drawn AS (
    SELECT (t.d::timestamp + make_interval(secs => 28800 + 23400 * (random() + random())))
               AT TIME ZONE 'UTC' AS at,
           (CAST(:slots AS text[]))[1 + floor(random() * 1000)::int] AS store,
           random() AS k, 1 + floor(random() * 8)::int AS staff_no
    FROM unnest(CAST(:days AS date[]), CAST(:primary AS int[])) AS t(d, n),
         generate_series(1, t.n)
), kinds AS (
    SELECT at, store, staff_no,
        CASE WHEN k < {SALE} THEN 'SALE' WHEN k < {SALE_OR_REDEEM} THEN 'REDEEM'
             ELSE 'ADJUST' END AS kind,
        floor(bench_enrolled(at) * power(random(), 1.2))::bigint AS customer_no,
        random() < 0.5 AS checkout_draw, random() AS redeem_draw, random() AS reward_draw,
        random() AS lot_draw,
        CASE WHEN random() < 0.02 THEN random() * 172800 ELSE 0.1 + random() * 0.5 END AS lag_s,
        round(greatest(2, exp(ln(30) + 0.7 * bench_normal()))::numeric, 2) AS total,
        greatest(300, round(exp(ln(2400) + 0.55 * bench_normal())))::int AS processing_ms,
        (1 + floor(random() * 6))::int * 100 AS off_points,
        1 + floor(10 * power(random(), 1.8))::int AS reward_no,
        (CASE WHEN random() < 0.7 THEN 1 ELSE -1 END) * (10 + floor(random() * 190))::int
            AS adjust_points,
        floor(random() * 800)::int AS balance_after, 1 + floor(random() * 60)::int AS version
    FROM drawn
), shaped AS (
    SELECT *, kind = 'SALE' AND checkout_draw AS is_checkout,
        CASE WHEN kind = 'SALE' AND checkout_draw AND redeem_draw < 0.25
                 THEN least(floor(total * 50)::int, off_points)
             WHEN kind = 'REDEEM' AND reward_draw < 0.9
                 THEN (ARRAY[100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500])[reward_no]
             WHEN kind = 'REDEEM' THEN off_points
             ELSE 0 END AS redeem_points,
        CASE WHEN kind = 'REDEEM' AND reward_draw < 0.9
             THEN 'R' || lpad(reward_no::text, 2, '0') END AS reward_id
    FROM kinds
)
SELECT s.*, bench_customer(customer_no) AS customer,
    'cashier-' || store || '-' || staff_no AS staff,
    'T-' || store || '-' || (1 + staff_no % 4) AS terminal,
    at + make_interval(secs => lag_s) AS created_at,
    CASE WHEN redeem_points > 0 THEN nextval('journal_entries_id_seq') END AS redeem_id,
    CASE WHEN kind <> 'REDEEM' THEN nextval('journal_entries_id_seq') END AS entry_id,
    CASE WHEN kind = 'SALE' THEN nextval('sales_id_seq') END AS sale_row_id,
    CASE WHEN kind = 'SALE' THEN floor(10 * (total - redeem_points * 0.01))::int
         ELSE adjust_points END AS points
FROM shaped AS s
"""

ENTRIES = f"""
INSERT INTO journal_entries ({ENTRY_COLUMNS})
SELECT redeem_id, 'REDEEM', customer, -redeem_points, balance_after, version, store, terminal,
    CASE WHEN kind = 'SALE' THEN 'bench-' || sale_row_id END, 'bench-r' || redeem_id,
    reward_id, NULL::text, staff, 'CASHIER', terminal, created_at, at, NULL::bigint
FROM ev WHERE redeem_id IS NOT NULL
UNION ALL
SELECT entry_id, CASE WHEN kind = 'SALE' THEN 'EARN' ELSE 'ADJUST' END, customer, points,
    balance_after + greatest(points, 0), version + 1, store, terminal,
    CASE WHEN kind = 'SALE' THEN 'bench-' || sale_row_id END, 'bench-e' || entry_id, NULL::text,
    CASE WHEN kind = 'ADJUST' THEN 'goodwill' END,
    CASE WHEN kind = 'SALE' THEN staff ELSE 'manager-' || store END,
    CASE WHEN kind = 'SALE' THEN 'CASHIER' ELSE 'MANAGER' END, terminal, created_at, at,
    NULL::bigint
FROM ev WHERE entry_id IS NOT NULL
"""

LINES = f"""
INSERT INTO journal_lines (entry_id, account, amount)
SELECT v.id, v.account, v.amount
FROM ev, LATERAL (VALUES
    (redeem_id, {CUSTOMER}, -redeem_points),
    (redeem_id, CAST(:redeemed AS text), redeem_points),
    (entry_id, {CUSTOMER}, points),
    (entry_id, CASE WHEN kind = 'SALE' THEN CAST(:issued AS text)
                    ELSE CAST(:adjustments AS text) END, -points)
) AS v(id, account, amount)
WHERE v.id IS NOT NULL
"""

SALES = """
INSERT INTO sales (id, journal_entry_id, customer_id, store_id, terminal_id, sale_ref, total,
    points, occurred_at, discount, redeem_entry_id, points_redeemed, is_checkout, started_at,
    processing_ms, recorded_at, recorded_by_staff)
SELECT sale_row_id, entry_id, customer, store, terminal, 'bench-' || sale_row_id, total, points,
    at, CASE WHEN redeem_points > 0 THEN redeem_points * 0.01 END, redeem_id, redeem_points,
    is_checkout, CASE WHEN is_checkout THEN at - make_interval(secs => processing_ms / 1000.0) END,
    CASE WHEN is_checkout THEN processing_ms END, created_at, staff
FROM ev WHERE kind = 'SALE'
"""

REDEMPTIONS = """
INSERT INTO redemptions (entry_id, kind, reward_id, discount_amount, voucher_code)
SELECT redeem_id, CASE WHEN reward_id IS NULL THEN 'POINTS_OFF' ELSE 'VOUCHER' END, reward_id,
    CASE WHEN reward_id IS NULL THEN redeem_points * 0.01 END,
    CASE WHEN reward_id IS NOT NULL THEN upper(substr(md5(random()::text), 1, 10)) END
FROM ev WHERE redeem_id IS NOT NULL
"""

# A recipient who redeems within 120 days of an award spends the award's points first
# (the oldest lot); other points are a synthetic lot of a lognormal age (median 45 days).
LOT_SPENDS = """
INSERT INTO lot_spends (lot_id, lot_entry_id, entry_id, points, earned_at, spent_at)
SELECT x.lot_id, x.lot_entry_id, x.entry_id, x.points, x.earned_at, x.spent_at
FROM (
    SELECT DISTINCT ON (e.redeem_id) e.redeem_id, e.at, e.redeem_points, a.entry_id AS award_entry,
        CASE WHEN a.entry_id IS NOT NULL THEN least(a.points, e.redeem_points) END
            AS from_award, a.created_at AS awarded_at,
        e.at - make_interval(secs => 86400 * least(700, exp(ln(45) + 0.8 * bench_normal())))
            AS earned_at
    FROM ev AS e
    LEFT JOIN (
        SELECT r.customer_id, r.entry_id, b.points, b.created_at
        FROM bulk_award_recipients AS r JOIN bulk_awards AS b ON b.id = r.bulk_award_id
        WHERE r.status = 'AWARDED'
    ) AS a ON e.lot_draw < 0.6 AND a.customer_id = e.customer
          AND a.created_at < e.at AND a.created_at > e.at - interval '120 days'
    WHERE e.redeem_id IS NOT NULL
    ORDER BY e.redeem_id, a.created_at DESC
) AS s, LATERAL (VALUES
    (s.award_entry, s.award_entry, s.redeem_id, s.from_award, s.awarded_at, s.at),
    (s.redeem_id, NULL::bigint, s.redeem_id, s.redeem_points - coalesce(s.from_award, 0),
     s.earned_at, s.at)
) AS x(lot_id, lot_entry_id, entry_id, points, earned_at, spent_at)
WHERE x.lot_id IS NOT NULL AND x.points > 0
"""

REFUNDS = f"""
CREATE TEMP TABLE rf ON COMMIT DROP AS
SELECT g.*, g.given - g.taken AS delta,
    nextval('journal_entries_id_seq') AS refund_entry_id, nextval('refunds_id_seq') AS refund_id
FROM (
    SELECT f.*,
        CASE WHEN f.full_refund THEN f.points
             ELSE greatest(1, floor(f.points * f.part))::int END AS taken,
        CASE WHEN f.full_refund THEN f.redeem_points
             ELSE floor(f.redeem_points * f.part)::int END AS given,
        CASE WHEN f.full_refund THEN f.total ELSE round(f.total * f.part::numeric, 2) END
            AS amount
    FROM (
        SELECT e.*, least(e.at + make_interval(secs => random() * 14 * 86400),
                          CAST(:window_end AS timestamptz) - interval '1 minute') AS refunded_at,
            random() < 0.7 AS full_refund, random() AS part
        FROM ev AS e WHERE e.kind = 'SALE' AND random() < {REFUNDED}
    ) AS f
) AS g
"""

REFUND_ENTRIES = f"""
INSERT INTO journal_entries ({ENTRY_COLUMNS})
SELECT refund_entry_id, 'REVERSAL', customer, delta, balance_after, version + 2, store,
    terminal, 'bench-' || sale_row_id, 'bench-f' || refund_entry_id, NULL, 'refund', staff,
    'CASHIER', terminal, refunded_at + interval '0.3 seconds', refunded_at, entry_id
FROM rf
"""

REFUND_LINES = f"""
INSERT INTO journal_lines (entry_id, account, amount)
SELECT refund_entry_id, v.account, v.amount
FROM rf, LATERAL (VALUES
    ({CUSTOMER}, delta),
    (CAST(:issued AS text), taken),
    (CAST(:redeemed AS text), -given)
) AS v(account, amount)
WHERE v.amount <> 0
"""

REFUND_ROWS = """
INSERT INTO refunds (id, entry_id, sale_id, points_taken_back, points_given_back, points_owed,
    amount_refunded, created_at)
SELECT refund_id, refund_entry_id, sale_row_id, taken, given, 0, amount, refunded_at FROM rf
"""

# Expiry runs at night, with points of customers enrolled a year before or more.
EXPIRIES = """
CREATE TEMP TABLE ex ON COMMIT DROP AS
SELECT nextval('journal_entries_id_seq') AS id, at,
    bench_customer(floor(bench_enrolled(at - interval '365 days') * random())::bigint)
        AS customer,
    (10 + floor(random() * 290))::int AS points
FROM (
    SELECT (t.d::timestamp + make_interval(secs => 7200 + random() * 3600))
               AT TIME ZONE 'UTC' AS at
    FROM unnest(CAST(:days AS date[]), CAST(:expiring AS int[])) AS t(d, n),
         generate_series(1, t.n)
) AS x
"""

EXPIRY_ENTRIES = f"""
INSERT INTO journal_entries ({ENTRY_COLUMNS})
SELECT id, 'EXPIRE', customer, -points, 0, 1, NULL, NULL, NULL, 'bench-x' || id, NULL,
    'expired', NULL, NULL, NULL, at, at, NULL
FROM ex
"""

EXPIRY_LINES = f"""
INSERT INTO journal_lines (entry_id, account, amount)
SELECT id, v.account, v.amount
FROM ex, LATERAL (VALUES ({CUSTOMER}, -points), (CAST(:breakage AS text), points))
    AS v(account, amount)
"""

GUEST_SALES = """
INSERT INTO guest_sales (idempotency_key, fingerprint, store_id, terminal_id, total,
    occurred_at, recorded_at, recorded_by_staff, recorded_by_role, recorded_by_terminal)
SELECT 'bench-guest-' || gen_random_uuid(), 'bench', store,
    'T-' || store || '-' || (1 + staff_no % 4), total, at, at + interval '0.3 seconds',
    'cashier-' || store || '-' || staff_no, 'CASHIER', 'T-' || store || '-' || (1 + staff_no % 4)
FROM (
    SELECT (t.d::timestamp + make_interval(secs => 28800 + 23400 * (random() + random())))
               AT TIME ZONE 'UTC' AS at,
           (CAST(:slots AS text[]))[1 + floor(random() * 1000)::int] AS store,
           1 + floor(random() * 8)::int AS staff_no,
           round(greatest(2, exp(ln(25) + 0.7 * bench_normal()))::numeric, 2) AS total
    FROM unnest(CAST(:days AS date[]), CAST(:guests AS int[])) AS t(d, n),
         generate_series(1, t.n)
) AS g
"""

ACTIVITY_SQL = [
    "DROP TABLE IF EXISTS ev",
    "DROP TABLE IF EXISTS rf",
    "DROP TABLE IF EXISTS ex",
    EVENTS,
    "ANALYZE ev",
    ENTRIES,
    LINES,
    SALES,
    REDEMPTIONS,
    LOT_SPENDS,
    REFUNDS,
    REFUND_ENTRIES,
    REFUND_LINES,
    REFUND_ROWS,
    EXPIRIES,
    EXPIRY_ENTRIES,
    EXPIRY_LINES,
    GUEST_SALES,
]

AWARD_SQL = [
    """INSERT INTO bulk_awards (id, idempotency_key, fingerprint, status, points, reason,
        campaign_id, total_customers, awarded_customers, failed_customers, created_at,
        completed_at, created_by_staff, created_by_role, holdout_percent, holdout_customers)
    VALUES (:id, :key, 'bench', 'COMPLETED', :points, 'bench campaign', :campaign_id, 0, 0, 0,
        CAST(:at AS timestamptz), CAST(:completed AS timestamptz), 'admin-1', 'ADMIN', 10, 0)""",
    "DROP TABLE IF EXISTS rc",
    """CREATE TEMP TABLE rc ON COMMIT DROP AS
    SELECT c.*, CASE WHEN NOT c.holdout THEN nextval('journal_entries_id_seq') END AS entry_id
    FROM (
        SELECT bench_customer(n) AS customer, row_number() OVER (ORDER BY n) - 1 AS position,
            random() < 0.1 AS holdout
        FROM generate_series(0, bench_enrolled(CAST(:at AS timestamptz)) - 1) AS n
        WHERE random() < :share
    ) AS c""",
    f"""INSERT INTO journal_entries ({ENTRY_COLUMNS})
    SELECT entry_id, 'BULK_AWARD', customer, :points, :points, 1, NULL, NULL, NULL,
        :key || '-' || position, NULL, 'bench campaign', 'admin-1', 'ADMIN', NULL,
        CAST(:at AS timestamptz) + make_interval(secs => position * 0.003),
        CAST(:at AS timestamptz) + make_interval(secs => position * 0.003), NULL
    FROM rc WHERE entry_id IS NOT NULL""",
    f"""INSERT INTO journal_lines (entry_id, account, amount)
    SELECT entry_id, v.account, v.amount
    FROM rc, LATERAL (VALUES ({CUSTOMER}, CAST(:points AS int)),
                             (CAST(:account AS text), -CAST(:points AS int)))
        AS v(account, amount)
    WHERE entry_id IS NOT NULL""",
    """INSERT INTO bulk_award_recipients (bulk_award_id, customer_id, position, status, entry_id)
    SELECT :id, customer, position,
        CASE WHEN holdout THEN 'HOLDOUT' ELSE 'AWARDED' END, entry_id
    FROM rc""",
    """UPDATE bulk_awards SET
        total_customers = (SELECT count(*) FROM rc),
        awarded_customers = (SELECT count(*) FROM rc WHERE NOT holdout),
        holdout_customers = (SELECT count(*) FROM rc WHERE holdout)
    WHERE id = :id""",
]
