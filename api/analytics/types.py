"""The analytics API (shared/api/analytics.graphql and what this project adds to it)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry

from api.scalars import DecimalText, amount, money
from domain import analytics
from domain.analytics import AnalyticsRange as Asked


@strawberry.enum
class Granularity(Enum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


def _float(value: Decimal | None) -> float | None:
    """Ratios and durations travel as Float (the contract's choice); never money."""
    return None if value is None else float(value)


@strawberry.input
class AnalyticsRange:
    from_: datetime = strawberry.field(name="from", description="Start, inclusive.")
    until: datetime = strawberry.field(description="End, exclusive.")
    store_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Only these stores; omitted: every store in the caller's scope.",
    )
    granularity: Granularity = strawberry.field(
        default=Granularity.DAY, description="How the range is cut into periods."
    )
    time_zone: str = strawberry.field(
        default="UTC",
        description="IANA time zone in which days, weeks (from Monday) and months are cut. "
        "from and until must be midnights there: whole days are counted.",
    )
    compare_from: datetime | None = strawberry.field(
        default=None,
        description="Start of the earlier range checkout times are compared with; omitted: "
        "the range of the same length just before.",
    )
    compare_until: datetime | None = strawberry.field(
        default=None, description="End (exclusive) of the earlier range."
    )

    def to_range(self, store_ids: frozenset[str] | None) -> Asked:
        return Asked(
            start=self.from_,
            end=self.until,
            granularity=analytics.Granularity(self.granularity.value),
            zone_name=self.time_zone.strip(),
            store_ids=store_ids,
            compare_start=self.compare_from,
            compare_end=self.compare_until,
        )


@strawberry.type
class AnalyticsPeriod:
    start: datetime
    end: datetime
    sales: int = strawberry.field(
        description="Sales recorded (earn or checkout), by the time the sale happened."
    )
    sales_with_redemption: int = strawberry.field(description="Sales on which points were spent.")
    checkouts: int = strawberry.field(description="Sales recorded with checkout.")
    points_earned: int = strawberry.field(description="Points earned on sales, before refunds.")
    points_awarded: int = strawberry.field(description="Points given by bulk awards.")
    points_redeemed: int = strawberry.field(
        description="Points spent (redemptions and checkouts), before refunds give any back."
    )
    redemptions: int = strawberry.field(description="Redemptions (each spend of points).")
    points_expired: int
    points_reversed: int = strawberry.field(
        description="Points taken back by refunds and award reversals."
    )
    points_redeemed_per_transaction: float | None = strawberry.field(
        description="pointsRedeemed / sales."
    )
    active_customers: int = strawberry.field(
        description="Customers with at least one sale in the period."
    )
    new_customers: int = strawberry.field(description="Customers enrolled in the period.")
    retained_customers: int = strawberry.field(
        description="Customers active in this period and in the one before it."
    )
    retention_rate: float | None = strawberry.field(
        description="retainedCustomers / activeCustomers of the period before; null for a "
        "period whose predecessor had none."
    )
    outstanding_points: int = strawberry.field(
        description="Sum of all customers' balances at the period's end (the points liability)."
    )
    outstanding_value: DecimalText = strawberry.field(
        description="outstandingPoints valued at the point value in force at the period's end."
    )
    revenue: DecimalText = strawberry.field(
        description="Money taken on sales, after discounts paid with points."
    )
    guest_sales: int = strawberry.field(description="Sales to shoppers who are not members.")
    guest_revenue: DecimalText = strawberry.field(description="Money taken on guest sales.")
    checkout_time_p50_ms: float | None = strawberry.field(
        name="checkoutTimeP50Ms",
        description="Median and 95th percentile of checkout processing time, in milliseconds "
        "(occurredAt - startedAt when the till sent startedAt, else the server's own "
        "processing time), each time kept to 3 significant figures; null without checkouts.",
    )
    checkout_time_p95_ms: float | None = strawberry.field(name="checkoutTimeP95Ms")
    redemption_median_days: float | None = strawberry.field(
        description="Median age in days of the points spent in the period (each redemption's "
        "points-weighted mean age, to 3 significant figures)."
    )
    redemption_p90_days: float | None = strawberry.field(name="redemptionP90Days")

    @classmethod
    def of(cls, figures: analytics.PeriodFigures) -> AnalyticsPeriod:
        flow = figures.flow
        return cls(
            start=figures.start,
            end=figures.end,
            sales=flow.sales,
            sales_with_redemption=flow.sales_with_redemption,
            checkouts=flow.checkouts,
            points_earned=flow.points_earned,
            points_awarded=flow.points_awarded,
            points_redeemed=flow.points_redeemed,
            redemptions=flow.redemptions,
            points_expired=flow.points_expired,
            points_reversed=flow.points_reversed,
            points_redeemed_per_transaction=_float(figures.points_redeemed_per_transaction),
            active_customers=figures.active_customers,
            new_customers=figures.new_customers,
            retained_customers=figures.retained_customers,
            retention_rate=_float(figures.retention_rate),
            outstanding_points=figures.outstanding_points,
            outstanding_value=amount(figures.outstanding_value),
            revenue=amount(flow.revenue),
            guest_sales=flow.guest_sales,
            guest_revenue=amount(flow.guest_revenue),
            checkout_time_p50_ms=_float(figures.checkout_time.p50),
            checkout_time_p95_ms=_float(figures.checkout_time.p95),
            redemption_median_days=_float(figures.redemption_age.p50),
            redemption_p90_days=_float(figures.redemption_age.p90),
        )


@strawberry.type
class CampaignPerformance:
    campaign_id: str
    bulk_award_id: strawberry.ID
    awarded_at: datetime | None
    recipients: int
    holdout_customers: int = strawberry.field(
        description="Customers of the segment kept out at random as a control group."
    )
    points_awarded: int
    cost: DecimalText = strawberry.field(
        description="pointsAwarded valued at the point value when awarded."
    )
    points_redeemed: int = strawberry.field(
        description="Points of the award spent by the recipients so far (oldest points spent "
        "first)."
    )
    revenue_after: DecimalText = strawberry.field(
        description="Revenue of the recipients' sales in the range, after the award."
    )
    holdout_revenue: DecimalText | None = strawberry.field(
        description="The holdout's revenue in the same window, scaled to the recipients' count."
    )
    revenue_before: DecimalText | None = strawberry.field(
        description="Without a holdout: the recipients' revenue in the window of the same "
        "length just before the award."
    )
    incremental_revenue: DecimalText
    roi: float | None = strawberry.field(
        description="(incremental revenue - cost) / cost; incremental revenue is revenueAfter "
        "minus, with a holdout, the holdout's revenue in the same window scaled to the "
        "recipients' count, else the recipients' own revenue in the window of the same length "
        "just before the award (the window after runs from the award to the range's end); "
        "null when cost is 0."
    )

    @classmethod
    def of(cls, figures: analytics.CampaignFigures) -> CampaignPerformance:
        return cls(
            campaign_id=figures.campaign_id,
            bulk_award_id=strawberry.ID(figures.bulk_award_id),
            awarded_at=figures.awarded_at,
            recipients=figures.recipients,
            holdout_customers=figures.holdout_customers,
            points_awarded=figures.points_awarded,
            cost=amount(figures.cost),
            points_redeemed=figures.points_redeemed,
            revenue_after=amount(figures.revenue_after),
            holdout_revenue=money(figures.holdout_revenue),
            revenue_before=money(figures.revenue_before),
            incremental_revenue=amount(figures.incremental_revenue),
            roi=_float(figures.roi),
        )


@strawberry.type(
    description="Per staff member (the token's staff id) and store of the movement; "
    "enrolments count under the store of the token when it names exactly one, else null."
)
class StaffActivity:
    staff_id: str
    store_id: strawberry.ID | None
    enrolments: int
    sales: int
    points_issued: int = strawberry.field(
        description="Points earned on the sales they recorded (awards and adjustments not "
        "included)."
    )
    points_redeemed: int
    refunds: int
    adjustments: int

    @classmethod
    def of(cls, figures: analytics.StaffFigures) -> StaffActivity:
        store = None if figures.store_id is None else strawberry.ID(figures.store_id)
        return cls(
            staff_id=figures.staff_id,
            store_id=store,
            enrolments=figures.enrolments,
            sales=figures.sales,
            points_issued=figures.points_issued,
            points_redeemed=figures.points_redeemed,
            refunds=figures.refunds,
            adjustments=figures.adjustments,
        )


@strawberry.type
class RedemptionVelocity:
    reward_id: strawberry.ID | None = strawberry.field(
        description="null for points spent as money off without a catalog reward."
    )
    redemptions: int
    points_redeemed: int
    median_days_to_redeem: float | None = strawberry.field(
        description="Median and 90th percentile age, in days, of the points spent "
        "(earned-to-spent, oldest points first)."
    )
    p90_days_to_redeem: float | None = strawberry.field(name="p90DaysToRedeem")

    @classmethod
    def of(cls, figures: analytics.RewardVelocity) -> RedemptionVelocity:
        reward = None if figures.reward_id is None else strawberry.ID(figures.reward_id)
        return cls(
            reward_id=reward,
            redemptions=figures.redemptions,
            points_redeemed=figures.points_redeemed,
            median_days_to_redeem=_float(figures.age.p50),
            p90_days_to_redeem=_float(figures.age.p90),
        )


@strawberry.type(description="Customers enrolled in a month, and how many came back later.")
class EnrolmentCohort:
    month: datetime = strawberry.field(description="The first instant of the enrolment month.")
    customers: int
    active: list[int] = strawberry.field(
        description="active[k]: customers of the cohort with a sale k months after their "
        "enrolment month (k = 0, 1, ... up to the range's end)."
    )
    rates: list[float | None] = strawberry.field(description="active[k] / customers.")

    @classmethod
    def of(cls, cohort: analytics.Cohort) -> EnrolmentCohort:
        return cls(
            month=cohort.month,
            customers=cohort.customers,
            active=list(cohort.active),
            rates=[_float(rate) for rate in cohort.rates],
        )


@strawberry.type(description="Customers by how they take part, over the whole history.")
class ParticipationSegment:
    segment: str = strawberry.field(description="REDEEMER, EARN_ONLY or INACTIVE.")
    customers: int
    sales: int
    revenue: DecimalText
    purchases_per_customer: float | None
    repeat_rate: float | None = strawberry.field(
        description="Share of the segment's customers with two sales or more."
    )
    average_spend: DecimalText | None

    @classmethod
    def of(cls, segment: analytics.Segment) -> ParticipationSegment:
        return cls(
            segment=segment.participation.value,
            customers=segment.customers,
            sales=segment.sales,
            revenue=amount(segment.revenue),
            purchases_per_customer=_float(segment.purchases_per_customer),
            repeat_rate=_float(segment.repeat_rate),
            average_spend=money(segment.average_spend),
        )


@strawberry.type(
    description="Whether loyal customers buy more often: segments over the programme's whole "
    "history (programme-wide), and members against non-members in the range."
)
class LifetimeValue:
    segments: list[ParticipationSegment]
    correlation: float | None = strawberry.field(
        description="Pearson correlation, over every customer, of points activity (points "
        "earned plus redeemed) with the number of purchases."
    )
    member_sales: int
    member_average_spend: DecimalText | None
    guest_sales: int
    guest_revenue: DecimalText
    guest_average_spend: DecimalText | None

    @classmethod
    def of(cls, value: analytics.LifetimeValue) -> LifetimeValue:
        return cls(
            segments=[ParticipationSegment.of(segment) for segment in value.segments],
            correlation=_float(value.moments.correlation()),
            member_sales=value.member_sales,
            member_average_spend=money(value.member_average_spend),
            guest_sales=value.guest_sales,
            guest_revenue=amount(value.guest_revenue),
            guest_average_spend=money(value.guest_average_spend),
        )


@strawberry.type(description="Checkout processing time against an earlier range.")
class CheckoutTimeComparison:
    p50_ms: float | None = strawberry.field(name="p50Ms")
    p95_ms: float | None = strawberry.field(name="p95Ms")
    earlier_p50_ms: float | None = strawberry.field(name="earlierP50Ms")
    earlier_p95_ms: float | None = strawberry.field(name="earlierP95Ms")
    p50_reduction: float | None = strawberry.field(
        description="(earlier - now) / earlier: 0.25 means a quarter less time."
    )
    p95_reduction: float | None

    @classmethod
    def of(cls, comparison: analytics.CheckoutComparison) -> CheckoutTimeComparison:
        now, earlier = comparison.now, comparison.earlier
        reduction = analytics.CheckoutComparison.reduction
        return cls(
            p50_ms=_float(now.p50),
            p95_ms=_float(now.p95),
            earlier_p50_ms=_float(earlier.p50),
            earlier_p95_ms=_float(earlier.p95),
            p50_reduction=_float(reduction(now.p50, earlier.p50)),
            p95_reduction=_float(reduction(now.p95, earlier.p95)),
        )


@strawberry.type
class Analytics:
    totals: AnalyticsPeriod = strawberry.field(description="The whole range as one period.")
    periods: list[AnalyticsPeriod] = strawberry.field(
        description="One entry per period of the range, oldest first, including periods with "
        "no activity."
    )
    campaigns: list[CampaignPerformance] = strawberry.field(
        description="Each bulk-award campaign with activity in the range."
    )
    staff: list[StaffActivity] = strawberry.field(
        description="Each staff member who recorded a movement in the range."
    )
    redemption_velocity: list[RedemptionVelocity] = strawberry.field(
        description="How quickly redeemed points were used, per reward."
    )
    cohorts: list[EnrolmentCohort]
    lifetime_value: LifetimeValue
    checkout_time: CheckoutTimeComparison

    @classmethod
    def of(cls, report: analytics.AnalyticsReport) -> Analytics:
        return cls(
            totals=AnalyticsPeriod.of(report.totals),
            periods=[AnalyticsPeriod.of(period) for period in report.periods],
            campaigns=[CampaignPerformance.of(row) for row in report.campaigns],
            staff=[StaffActivity.of(row) for row in report.staff],
            redemption_velocity=[RedemptionVelocity.of(row) for row in report.velocity],
            cohorts=[EnrolmentCohort.of(row) for row in report.cohorts],
            lifetime_value=LifetimeValue.of(report.lifetime),
            checkout_time=CheckoutTimeComparison.of(report.checkout),
        )


@strawberry.type(description="Today's figures of a store, as the rollups count them.")
class StoreTiles:
    store_id: strawberry.ID
    day: datetime = strawberry.field(description="The first instant of today in the zone.")
    sales: int
    points_earned: int
    points_redeemed: int
    active_customers: int
    revenue: DecimalText
    updated_at: datetime
