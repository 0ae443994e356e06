"""The dashboard's tables as CSV: `GET /dashboard/{table}.csv`.

Each download runs the `analytics` query in process against the app's own schema, with
the context the GraphQL view builds from the request (api.downloads).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from api.downloads import (
    INVALID_INPUT,
    GraphQLView,
    Refusal,
    answered,
    csv_response,
    day_of,
)

NOT_FOUND = "NOT_FOUND"

PERIOD_FIELDS = (
    "start end sales salesWithRedemption checkouts redemptions pointsEarned pointsAwarded "
    "pointsRedeemed pointsExpired pointsReversed pointsRedeemedPerTransaction activeCustomers "
    "newCustomers retainedCustomers retentionRate outstandingPoints outstandingValue revenue "
    "guestSales guestRevenue checkoutTimeP50Ms checkoutTimeP95Ms redemptionMedianDays "
    "redemptionP90Days"
)
CAMPAIGN_FIELDS = (
    "campaignId bulkAwardId awardedAt recipients holdoutCustomers pointsAwarded cost "
    "pointsRedeemed revenueBefore revenueAfter holdoutRevenue incrementalRevenue roi"
)
STAFF_FIELDS = "staffId storeId enrolments sales pointsIssued pointsRedeemed refunds adjustments"
VELOCITY_FIELDS = "rewardId redemptions pointsRedeemed medianDaysToRedeem p90DaysToRedeem"
COHORT_FIELDS = "month customers active rates"
SEGMENT_FIELDS = "segment customers sales revenue purchasesPerCustomer repeatRate averageSpend"


@dataclass(frozen=True)
class Table:
    """Where a table's rows sit under `analytics`, and their columns in order."""

    path: tuple[str, ...]
    fields: str

    def query(self) -> str:
        selection = "{ " + self.fields + " }"
        for name in reversed(self.path):
            selection = "{ " + name + " " + selection + " }"
        return f"query($range: AnalyticsRange!) {{ analytics(range: $range) {selection} }}"

    def of(self, analytics: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
        """The header and the rows."""
        found: Any = analytics
        for name in self.path:
            found = found[name]
        return self.fields.split(), list(found)


@dataclass(frozen=True)
class CohortTable(Table):
    """A cohort's list fields spread over columns active0.., rates0.. (months after
    enrolment), so that the CSV reads as the triangle the dashboard shows."""

    def of(self, analytics: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
        _, cohorts = super().of(analytics)
        months = range(max((len(cohort["active"]) for cohort in cohorts), default=0))
        header = ["month", "customers", *(f"active{k}" for k in months)]
        header += [f"rates{k}" for k in months]
        return header, [_spread(cohort) for cohort in cohorts]


TABLES: dict[str, Table] = {
    "periods": Table(("periods",), PERIOD_FIELDS),
    "campaigns": Table(("campaigns",), CAMPAIGN_FIELDS),
    "staff": Table(("staff",), STAFF_FIELDS),
    "velocity": Table(("redemptionVelocity",), VELOCITY_FIELDS),
    "cohorts": CohortTable(("cohorts",), COHORT_FIELDS),
    "segments": Table(("lifetimeValue", "segments"), SEGMENT_FIELDS),
}


def analytics_csv(view: GraphQLView) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint of `/dashboard/{table}.csv`, answering with the view's schema."""

    async def endpoint(request: Request) -> Response:
        try:
            table = _table(request.path_params["table"])
            variables = {"range": range_of(request.query_params)}
            data = await answered(view, request, table.query(), variables)
        except Refusal as refusal:
            return refusal.response()
        header, rows = table.of(data["analytics"])
        return csv_response(header, rows, _filename(request, variables))

    return endpoint


def range_of(params: Mapping[str, str]) -> dict[str, object]:
    """The AnalyticsRange input from the query string; the schema checks the values."""
    missing = [name for name in ("from", "until") if not params.get(name)]
    if missing:
        raise Refusal(400, INVALID_INPUT, f"missing query parameter: {', '.join(missing)}")
    range_: dict[str, object] = {"from": params["from"], "until": params["until"]}
    for name in ("granularity", "timeZone"):
        if params.get(name):
            range_[name] = params[name]
    store_ids = [store.strip() for store in params.get("storeIds", "").split(",")]
    if any(store_ids):
        range_["storeIds"] = [store for store in store_ids if store]
    return range_


def _table(name: str) -> Table:
    if name not in TABLES:
        tables = ", ".join(TABLES)
        raise Refusal(404, NOT_FOUND, f"no table {name!r}; the tables are {tables}")
    return TABLES[name]


def _spread(cohort: Mapping[str, Any]) -> dict[str, Any]:
    row = {"month": cohort["month"], "customers": cohort["customers"]}
    row |= {f"active{k}": active for k, active in enumerate(cohort["active"])}
    row |= {f"rates{k}": rate for k, rate in enumerate(cohort["rates"])}
    return row


def _filename(request: Request, variables: Mapping[str, Any]) -> str:
    range_ = variables["range"]
    table = request.path_params["table"]
    return f"analytics-{table}-{day_of(range_['from'])}-{day_of(range_['until'])}.csv"
