"""Every query, mutation and subscription, under every role and none, against one policy.

The policy lives in api/permissions.py. A root field of the schema without a
policy, or without a sample operation here, fails the first test, so nothing
new ships unguarded.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from graphql import build_schema
from httpx_ws import WebSocketDisconnect
from starlette.applications import Starlette

from api.auth import Role
from api.permissions import POLICY
from api.schema import SCHEMA_FILE
from api.settings import Settings
from tests.api.test_balance_subscription import SUBSCRIBE, next_message, open_ws
from tests.conftest import GraphQLClient, bearer, mint, websocket_client
from tests.operations import create_store, earn, enroll, line

ANONYMOUS = None
CALLERS: list[Role | None] = [*Role, ANONYMOUS]
DENIED_CODES = {"FORBIDDEN", "UNAUTHENTICATED"}


@dataclass(frozen=True)
class Sample:
    document: str
    variables: dict[str, Any]


LINES = [line("10.00")]
SHOW = (
    'mutation($id: ID!) { showOnDisplay(input: {terminalId: "T1", storeId: "S1", '
    "customerId: $id}) { userErrors { code } } }"
)
SAMPLES: dict[str, Sample] = {
    "Query.customer": Sample("query($id: ID!) { customer(lookup: {id: $id}) { id } }", {}),
    "Query.previewEarn": Sample(
        "query($lines: [SaleLineInput!]!) "
        '{ previewEarn(input: {storeId: "S1", lines: $lines}) { points } }',
        {"lines": LINES},
    ),
    "Query.rewards": Sample("{ rewards { id } }", {}),
    "Query.stores": Sample("{ stores { id } }", {}),
    "Query.bulkAward": Sample('{ bulkAward(id: "none") { id } }', {}),
    "Mutation.createStore": Sample(
        'mutation($code: ID!) { createStore(input: {id: $code, name: "New"}) '
        "{ userErrors { code } } }",
        {},
    ),
    "Mutation.enrollCustomer": Sample(
        "mutation($key: String!) { enrollCustomer(input: {externalId: $key}) "
        "{ userErrors { code } } }",
        {},
    ),
    "Mutation.earnPoints": Sample(
        "mutation($id: ID!, $key: String!, $lines: [SaleLineInput!]!) { earnPoints(input: "
        '{customerId: $id, idempotencyKey: $key, storeId: "S1", lines: $lines}) '
        "{ userErrors { code } } }",
        {"lines": LINES},
    ),
    "Mutation.redeemPoints": Sample(
        "mutation($id: ID!, $key: String!) { redeemPoints(input: "
        '{customerId: $id, idempotencyKey: $key, storeId: "S1", points: 1}) '
        "{ userErrors { code } } }",
        {},
    ),
    "Mutation.adjustPoints": Sample(
        "mutation($id: ID!, $key: String!) { adjustPoints(input: {customerId: $id, "
        'idempotencyKey: $key, storeId: "S1", points: 1, reason: "goodwill"}) '
        "{ userErrors { code } } }",
        {},
    ),
    "Mutation.bulkAwardPoints": Sample(
        "mutation($id: ID!, $key: String!) { bulkAwardPoints(input: {idempotencyKey: $key, "
        'customerIds: [$id], points: 5, reason: "promo"}) { userErrors { code } } }',
        {},
    ),
    "Mutation.reverseBulkAward": Sample(
        'mutation($key: String!) { reverseBulkAward(input: {bulkAwardId: "none", '
        'idempotencyKey: $key, reason: "mistake"}) { userErrors { code } } }',
        {},
    ),
    "Mutation.showOnDisplay": Sample(
        "mutation($id: ID!) { showOnDisplay(input: "
        '{terminalId: "T1", storeId: "S1", customerId: $id}) { userErrors { code } } }',
        {},
    ),
    "Mutation.clearDisplay": Sample(
        'mutation { clearDisplay(input: {terminalId: "T1", storeId: "S1"}) '
        "{ userErrors { code } } }",
        {},
    ),
    "Mutation.checkout": Sample(
        "mutation($id: ID!, $key: String!, $lines: [SaleLineInput!]!) { checkout(input: "
        '{customerId: $id, idempotencyKey: $key, storeId: "S1", lines: $lines}) '
        "{ userErrors { code } } }",
        {"lines": LINES},
    ),
    "Mutation.recordGuestSale": Sample(
        "mutation($key: String!, $lines: [SaleLineInput!]!) { recordGuestSale(input: "
        '{idempotencyKey: $key, storeId: "S1", lines: $lines}) { userErrors { code } } }',
        {"lines": LINES},
    ),
    "Mutation.refundSale": Sample(
        "mutation($key: String!) { refundSale(input: "
        '{idempotencyKey: $key, storeId: "S1", transactionId: "1"}) { userErrors { code } } }',
        {},
    ),
    "Mutation.createEarningRule": Sample(
        "mutation($key: String!) { createEarningRule(input: "
        '{name: $key, kind: BASE_RATE, rate: "1"}) { userErrors { code } } }',
        {},
    ),
    "Mutation.updateEarningRule": Sample(
        'mutation { updateEarningRule(id: "none", input: '
        '{name: "x", kind: BASE_RATE, rate: "1"}) { userErrors { code } } }',
        {},
    ),
    "Mutation.createReward": Sample(
        "mutation($code: ID!) { createReward(input: "
        '{id: $code, name: "Mug", pointsCost: 10, kind: VOUCHER}) { userErrors { code } } }',
        {},
    ),
    "Mutation.updateReward": Sample(
        "mutation { updateReward(input: "
        '{id: "none", name: "Mug", pointsCost: 10, kind: VOUCHER}) '
        "{ userErrors { code } } }",
        {},
    ),
    "Mutation.closePeriod": Sample(
        'mutation { closePeriod(input: {until: "2999-01-01T00:00:00+00:00", reason: "x"}) '
        "{ userErrors { code } } }",
        {},
    ),
    "Mutation.reopenPeriod": Sample(
        'mutation { reopenPeriod(input: {from: "2000-01-01T00:00:00+00:00", reason: "x"}) '
        "{ userErrors { code } } }",
        {},
    ),
    "Query.reconciliation": Sample("{ reconciliation { balanced } }", {}),
    "Query.trialBalance": Sample("{ trialBalance { totalPoints } }", {}),
    "Query.valuation": Sample("{ valuation { pointValue } }", {}),
    "Query.liabilityRollForward": Sample(
        '{ liabilityRollForward(from: "2026-01-01T00:00:00Z", until: "2026-02-01T00:00:00Z") '
        "{ closingPoints } }",
        {},
    ),
    "Mutation.setPointValue": Sample(
        'mutation { setPointValue(input: {value: "-1"}) { userErrors { code } } }', {}
    ),
    "Mutation.mapGlAccount": Sample(
        'mutation { mapGlAccount(input: {role: LIABILITY, code: "", name: "x"}) '
        "{ userErrors { code } } }",
        {},
    ),
    "Mutation.setBreakageRate": Sample(
        'mutation { setBreakageRate(input: {rate: "1"}) { userErrors { code } } }', {}
    ),
    "Query.earningRules": Sample("{ earningRules { id } }", {}),
    "Query.earningRuleVersions": Sample('{ earningRuleVersions(id: "none") { id } }', {}),
    "Query.saleBreakdown": Sample('{ saleBreakdown(transactionId: "1") { points } }', {}),
    "Subscription.terminalDisplay": Sample(
        'subscription { terminalDisplay(terminalId: "T1") { customerId balance } }', {}
    ),
    "Subscription.balanceChanged": Sample(SUBSCRIBE, {}),
    "Subscription.storeTransactions": Sample(
        'subscription { storeTransactions(storeId: "S1") { id customerId points } }', {}
    ),
    "Subscription.storeTiles": Sample('subscription { storeTiles(storeId: "S1") { storeId } }', {}),
    "Query.analytics": Sample(
        "{ analytics(range: {"
        'from: "2026-11-01T00:00:00+00:00", until: "2026-11-02T00:00:00+00:00"}) '
        "{ totals { sales } } }",
        {},
    ),
}


def schema_root_fields() -> set[str]:
    schema = build_schema(SCHEMA_FILE.read_text())
    roots = [schema.query_type, schema.mutation_type, schema.subscription_type]
    return {f"{root.name}.{field}" for root in roots if root for field in root.fields}


def test_every_root_field_has_a_policy_and_a_sample_operation() -> None:
    fields = schema_root_fields()

    assert set(POLICY) == fields, "declare the new field in api/permissions.py POLICY"
    assert set(SAMPLES) == fields, "add a sample operation for the new field here"


def token_for(settings: Settings, caller: Role | None) -> str | None:
    if caller is None:
        return None
    if caller is Role.ADMIN:
        return mint(settings, caller, stores=(), terminal=None)
    return mint(settings, caller, stores=("S1",), terminal="T1")


async def outcome_over_http(
    app: Starlette, token: str | None, sample: Sample, variables: dict[str, Any]
) -> str:
    headers = {} if token is None else bearer(token)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://till", headers=headers
    ) as http:
        body = await GraphQLClient(http).raw(sample.document, {**sample.variables, **variables})
    errors = body.get("errors") or []
    codes = {error.get("extensions", {}).get("code") for error in errors}
    if codes & DENIED_CODES:
        assert all(value is None for value in (body["data"] or {}).values()), body
        return "denied"
    assert errors == [], body
    return "allowed"


async def outcome_over_websocket(
    app: Starlette, gql: GraphQLClient, token: str | None, field: str, customer_id: str
) -> str:
    """Subscribe; once acknowledged, make a change in S1 that every feed reports."""
    payload = {} if token is None else {"authorization": f"Bearer {token}"}
    async with websocket_client(app) as http, open_ws(http, "graphql-transport-ws") as ws:
        await ws.send_json({"type": "connection_init", "payload": payload})
        try:
            acknowledged = await next_message(ws)
        except WebSocketDisconnect as closed:
            return "denied" if closed.code == 4403 else f"closed with {closed.code}"
        assert acknowledged["type"] == "connection_ack"
        subscribe = {"query": SAMPLES[field].document, "variables": {"customerId": customer_id}}
        await ws.send_json({"id": "1", "type": "subscribe", "payload": subscribe})
        if field == "Subscription.storeTransactions":
            await asyncio.sleep(0.1)  # the feed has no snapshot: give it a change to report
            await earn(gql, customer_id, "policy-feed", [line("1.00")])
        message = await next_message(ws)
    # A refused subscription is an "error" message, whose payload is the list of errors.
    payload = message["payload"]
    errors = payload if message["type"] == "error" else payload.get("errors") or []
    codes = {e.get("extensions", {}).get("code") for e in errors}
    if codes & DENIED_CODES:
        return "denied"
    assert message["type"] == "next", message
    reported = next(iter(message["payload"]["data"].values()))
    if field == "Subscription.storeTiles":
        assert reported["storeId"] == "S1"
    else:
        assert reported["customerId"] == customer_id
    return "allowed"


@pytest.mark.parametrize(
    ("field", "caller"),
    list(itertools.product(sorted(SAMPLES), CALLERS)),
    ids=lambda value: getattr(value, "value", value) or "anonymous",
)
async def test_each_caller_is_allowed_exactly_what_the_policy_says(
    app: Starlette, gql: GraphQLClient, settings: Settings, field: str, caller: Role | None
) -> None:
    await create_store(gql)
    customer_id = (await enroll(gql, email="policy@example.com"))["id"]
    await earn(gql, customer_id, "policy-points", [line("50.00")])
    await gql.data(SHOW, {"id": customer_id})
    token = token_for(settings, caller)

    if field.startswith("Subscription."):
        seen = await outcome_over_websocket(app, gql, token, field, customer_id)
    else:
        variables = {"id": customer_id, "key": f"policy-{field}", "code": "S9"}
        seen = await outcome_over_http(app, token, SAMPLES[field], variables)

    expected = "allowed" if caller is not None and caller in POLICY[field] else "denied"
    assert seen == expected
