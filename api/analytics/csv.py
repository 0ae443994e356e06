"""The dashboard's tables as CSV: `GET /dashboard/{table}.csv`.

Each download runs the `analytics` query in process against the app's own schema, with
the context the GraphQL view builds from the request, so the token, the role policy and
the store scope are those of GraphQL itself and the figures are the same ones.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import ExecutionResult

from api.downloads import INVALID_INPUT, GraphQLView, Refusal
from api.errors import FORBIDDEN, MASKED_MESSAGE, UNAUTHENTICATED

NOT_FOUND = "NOT_FOUND"
STATUS_OF_CODE = {UNAUTHENTICATED: 401, FORBIDDEN: 403, INVALID_INPUT: 400}

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
            context = await view.get_context(request, Response())
            if context.principal is None:
                raise Refusal(401, UNAUTHENTICATED, context.authentication_error)
            result = await view.schema.execute(
                table.query(), variable_values=variables, context_value=context
            )
            header, rows = table.of(_analytics(result))
        except Refusal as refusal:
            return refusal.response()
        return _csv_response(header, rows, _filename(request, variables))

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


def _analytics(result: ExecutionResult) -> Mapping[str, Any]:
    if result.errors:
        raise _refusal_of(result.errors[0])
    assert result.data is not None, "a result without errors has data"
    analytics: Mapping[str, Any] = result.data["analytics"]
    return analytics


def _refusal_of(error: GraphQLError) -> Refusal:
    """A refusal with a code the client can act on keeps it; what was masked stays masked,
    as a 500; anything else is about the query string's values, which did not fit the
    schema's types (a date that is no DateTime, an unknown granularity): a 400."""
    code = (error.extensions or {}).get("code")
    if isinstance(code, str) and code in STATUS_OF_CODE:
        return Refusal(STATUS_OF_CODE[code], code, error.message)
    if error.message == MASKED_MESSAGE:
        return Refusal(500, "INTERNAL_ERROR", error.message)
    return Refusal(400, INVALID_INPUT, error.message)


def _spread(cohort: Mapping[str, Any]) -> dict[str, Any]:
    row = {"month": cohort["month"], "customers": cohort["customers"]}
    row |= {f"active{k}": active for k, active in enumerate(cohort["active"])}
    row |= {f"rates{k}": rate for k, rate in enumerate(cohort["rates"])}
    return row


def _csv_response(columns: list[str], rows: Iterable[Mapping[str, Any]], name: str) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({key: _cell(value) for key, value in row.items()} for row in rows)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def _cell(value: object) -> object:
    """A null is an empty cell; Decimals already arrive as the scalar's text."""
    return "" if value is None else value


def _filename(request: Request, variables: Mapping[str, Any]) -> str:
    range_ = variables["range"]
    table = request.path_params["table"]
    return f"analytics-{table}-{_day(range_['from'])}-{_day(range_['until'])}.csv"


def _day(instant: str) -> str:
    """The range's ends are midnights in the zone, so their own dates name the days."""
    return datetime.fromisoformat(instant).date().isoformat()
