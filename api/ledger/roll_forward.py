"""The liability roll-forward's field, month by month in points and in money, and the
dashboard's CSV of it (`GET /dashboard/roll-forward.csv?from=&until=`, the field's own
answer, so admins only)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response

from api.context import Info
from api.downloads import INVALID_INPUT, GraphQLView, Refusal, answered, csv_response, day_of
from api.permissions import GUARDED
from api.scalars import DecimalText, amount
from api.services import settled_back
from domain.errors import InvalidInput
from domain.roll_forward import LiabilityPeriod as DomainPeriod
from persistence.database import one_snapshot
from persistence.queries.roll_forward import roll_forward
from persistence.valuation import valuation

MAX_MONTHS = 36


@strawberry.type(
    description="opening + issued + awarded - redeemed - expired + adjusted + reversed "
    "= closing (IFRS 15.116), each movement valued when it happened."
)
class LiabilityFigures:
    issued: int
    awarded: int
    redeemed: int
    expired: int
    adjusted: int
    reversed: int


@strawberry.type
class LiabilityValues:
    issued: DecimalText
    awarded: DecimalText
    redeemed: DecimalText
    expired: DecimalText
    adjusted: DecimalText
    reversed: DecimalText


@strawberry.type
class LiabilityPeriod:
    start: datetime
    end: datetime
    opening_points: int
    closing_points: int
    opening_value: DecimalText
    closing_value: DecimalText
    points: LiabilityFigures
    value: LiabilityValues
    opening_breakage_in_advance: DecimalText = strawberry.field(
        description="Breakage recognised ahead of expiry and not yet matched by it (the "
        "EXPECTED_BREAKAGE contra account's debit balance) at the start; 0 without an "
        "expected breakage rate. The net contract liability is openingValue less this."
    )
    closing_breakage_in_advance: DecimalText = strawberry.field(
        description="The same at the end: the net contract liability is closingValue less it."
    )

    @classmethod
    def of(cls, period: DomainPeriod) -> LiabilityPeriod:
        moved = period.moved
        return cls(
            start=period.start,
            end=period.end,
            opening_points=period.opening_points,
            closing_points=period.closing_points,
            opening_value=amount(period.opening_value),
            closing_value=amount(period.closing_value),
            points=LiabilityFigures(**moved.points),
            value=LiabilityValues(**{k: amount(v) for k, v in moved.value.items()}),
            opening_breakage_in_advance=amount(period.opening_in_advance),
            closing_breakage_in_advance=amount(period.closing_in_advance),
        )


@strawberry.type
class RollForwardQueries:
    @strawberry.field(
        permission_classes=GUARDED,
        description="The loyalty liability rolled forward month by month (months of the "
        "reporting time zone) from `from` to `until`, in points and in money. Admins only.",
    )
    async def liability_roll_forward(
        self,
        info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        until: datetime,
    ) -> list[LiabilityPeriod]:
        start, end = from_.astimezone(UTC), until.astimezone(UTC)
        if not start < end or (end - start).days > MAX_MONTHS * 31:
            raise InvalidInput(f"until is after from, by {MAX_MONTHS} months at most", ("until",))
        context = info.context
        settled = (context.now(), settled_back(context.settings))
        async with context.database.reading() as session:
            await one_snapshot(session)
            books = await valuation(session, context.terms().point_value)
            periods = await roll_forward(
                session, (start, end), context.settings.reporting_zone, books, settled
            )
        return [LiabilityPeriod.of(period) for period in periods]


MOVEMENTS = ("issued", "awarded", "redeemed", "expired", "adjusted", "reversed")
CSV_QUERY = f"""
query($from: DateTime!, $until: DateTime!) {{
  liabilityRollForward(from: $from, until: $until) {{
    start end openingPoints closingPoints openingValue closingValue
    points {{ {" ".join(MOVEMENTS)} }} value {{ {" ".join(MOVEMENTS)} }}
    openingBreakageInAdvance closingBreakageInAdvance
  }}
}}"""
CSV_COLUMNS = [
    "start", "end",
    "openingPoints", *(f"{name}Points" for name in MOVEMENTS), "closingPoints",
    "openingValue", *(f"{name}Value" for name in MOVEMENTS), "closingValue",
    "openingBreakageInAdvance", "closingBreakageInAdvance",
]  # fmt: skip


def roll_forward_csv(view: GraphQLView) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint of `/dashboard/roll-forward.csv`: one row a period."""

    async def endpoint(request: Request) -> Response:
        try:
            variables = _span(request.query_params)
            data = await answered(view, request, CSV_QUERY, variables)
        except Refusal as refusal:
            return refusal.response()
        rows = [_flat(period) for period in data["liabilityRollForward"]]
        name = f"liability-roll-forward-{day_of(variables['from'])}-{day_of(variables['until'])}"
        return csv_response(CSV_COLUMNS, rows, f"{name}.csv")

    return endpoint


def _span(params: Mapping[str, str]) -> dict[str, str]:
    missing = [name for name in ("from", "until") if not params.get(name)]
    if missing:
        raise Refusal(400, INVALID_INPUT, f"missing query parameter: {', '.join(missing)}")
    return {"from": params["from"], "until": params["until"]}


def _flat(period: Mapping[str, Any]) -> dict[str, Any]:
    row = {key: value for key, value in period.items() if key not in ("points", "value")}
    for name in MOVEMENTS:
        row[f"{name}Points"] = period["points"][name]
        row[f"{name}Value"] = period["value"][name]
    return row
