"""The exports finance and auditors import: `GET /exports/gl.csv` (the GL journals of a
range of days, in a format an accounting system imports) and `GET /exports/journal.jsonl`
(every points entry with its lines, recorder, sale, both times and its hash). Admin bearer
token; `from` and `until` are days in the reporting time zone, `until` exclusive. The same
files come from `loyalty gl-export` and `loyalty journal-export`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from api.auth import Role
from api.downloads import INVALID_INPUT, GraphQLView, Refusal, attachment
from api.errors import FORBIDDEN, UNAUTHENTICATED
from api.services import settled_back
from api.settings import Settings
from domain.gl_export import GlFormat, rows
from domain.ledger import PostedEntry
from persistence.database import Database, one_snapshot
from persistence.ledger_snapshots import settled_horizon
from persistence.queries.gl import entries_between, gl_journals, local_midnight
from persistence.valuation import valuation

MAX_DAYS = 366


def days_of(params: Mapping[str, str]) -> tuple[date, date]:
    """`from` and `until` (exclusive), a year at most."""
    try:
        first, last = (date.fromisoformat(params[name]) for name in ("from", "until"))
    except KeyError as missing:
        raise Refusal(400, INVALID_INPUT, f"missing query parameter: {missing.args[0]}") from None
    except ValueError:
        raise Refusal(400, INVALID_INPUT, "from and until are dates: YYYY-MM-DD") from None
    if not first < last <= first + timedelta(days=MAX_DAYS):
        raise Refusal(400, INVALID_INPUT, f"until is after from, by {MAX_DAYS} days at most")
    return first, last


def format_of(name: str | None) -> GlFormat:
    try:
        return GlFormat(name or GlFormat.GENERIC.value)
    except ValueError:
        known = ", ".join(kind.value for kind in GlFormat)
        raise Refusal(
            400, INVALID_INPUT, f"unknown format {name!r}; the formats are {known}"
        ) from None


async def gl_csv(
    database: Database, settings: Settings, days: tuple[date, date], kind: GlFormat
) -> str:
    async with database.reading() as session:
        await one_snapshot(session)
        books = await valuation(session, settings.point_value)
        horizon = await settled_horizon(session, datetime.now(UTC), settled_back(settings))
        journals = await gl_journals(session, days, settings.reporting_zone, books, horizon)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(
        rows(journals, kind, settings.currency, settings.xero_tax_rate)
    )
    return out.getvalue()


async def journal_lines(
    database: Database, settings: Settings, days: tuple[date, date]
) -> AsyncIterator[str]:
    """One JSON object a line, entry by entry in id order."""
    zone = settings.reporting_zone
    async with database.reading() as session:
        await one_snapshot(session)
        start, end = (local_midnight(day, zone) for day in days)
        async for batch in entries_between(session, start, end):
            yield "".join(json.dumps(audit_record(posted)) + "\n" for posted in batch)


def audit_record(posted: PostedEntry) -> dict[str, Any]:
    entry, movement = posted.entry, posted.entry.movement
    actor = movement.actor
    return {
        "id": posted.id,
        "kind": entry.kind.value,
        "customerId": entry.customer_id,
        "points": entry.points,
        "balanceAfter": entry.balance_after,
        "storeId": movement.store_id,
        "terminalId": movement.terminal_id,
        "saleId": movement.sale_id,
        "rewardId": entry.reward_id,
        "reason": movement.reason,
        "reversesEntryId": entry.reverses_entry_id,
        "recordedBy": None
        if actor is None
        else {"staffId": actor.staff_id, "role": actor.role, "terminalId": actor.terminal_id},
        "occurredAt": movement.occurred_at.isoformat(),
        "recordedAt": movement.recorded.isoformat(),
        "lines": [{"account": line.account, "amount": line.amount} for line in entry.lines],
        "hash": entry.hash,
    }


Endpoint = Callable[[Request], Awaitable[Response]]


def ledger_exports(view: GraphQLView) -> tuple[Endpoint, Endpoint]:
    """The endpoints of `/exports/gl.csv` and `/exports/journal.jsonl`."""

    async def admin(request: Request) -> tuple[Database, Settings]:
        context = await view.get_context(request, Response())
        if context.principal is None:
            raise Refusal(401, UNAUTHENTICATED, context.authentication_error)
        if context.principal.role is not Role.ADMIN:
            raise Refusal(403, FORBIDDEN, "only an admin may export the books")
        return context.database, context.settings

    async def gl(request: Request) -> Response:
        try:
            database, settings = await admin(request)
            days, kind = (
                days_of(request.query_params),
                format_of(request.query_params.get("format")),
            )
        except Refusal as refusal:
            return refusal.response()
        body = await gl_csv(database, settings, days, kind)
        name = f"gl-{kind.value}-{days[0]}-{days[1]}.csv"
        return Response(body, media_type="text/csv; charset=utf-8", headers=attachment(name))

    async def journal(request: Request) -> Response:
        try:
            database, settings = await admin(request)
            days = days_of(request.query_params)
        except Refusal as refusal:
            return refusal.response()
        name = f"journal-{days[0]}-{days[1]}.jsonl"
        lines = journal_lines(database, settings, days)
        return StreamingResponse(lines, media_type="application/x-ndjson", headers=attachment(name))

    return gl, journal
