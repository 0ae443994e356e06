"""GraphQL hardening: every limit refuses a hostile request with a clear error and lets a
legitimate one through, over HTTP and, where it applies, WebSocket.

Limits that never read the database run on one backend: an app over the migrated SQLite
file, with the settings each test needs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect
from pydantic import ValidationError
from starlette.applications import Starlette

from api.app import create_app
from api.auth import Role
from api.settings import DEVELOPMENT_SECRET, InsecureConfiguration, Settings
from tests.api.test_balance_subscription import SUBSCRIBE, next_message, open_ws
from tests.conftest import REDIS_URL, GraphQLClient, bearer, mint, websocket_client
from tests.operations import create_store, enroll

PRODUCTION_SECRET = "p" * 32
ADDRESS = "127.0.0.1"
STORES = "{ stores { id } }"
UNKNOWN_CUSTOMER = '{id: "no-such-customer"}'

# 18 fields per transaction listed: with pageInfo, a page of 100 costs 1 + 100 * 21.
EDGES = (
    "edges { cursor node { id kind points balanceAfter customerId storeId terminalId saleId "
    "idempotencyKey createdAt reason recordedBy { staffId role terminalId } } } "
    "pageInfo { hasNextPage endCursor }"
)


def pages(count: int, first: str) -> str:
    """`count` aliased pages of a customer's transactions, each `first` long."""
    aliased = " ".join(f"p{i}: transactions(first: {first}) {{ {EDGES} }}" for i in range(count))
    return f"{{ customer(lookup: {UNKNOWN_CUSTOMER}) {{ {aliased} }} }}"


def preview_sale(lines: int) -> str:
    """A previewEarn for one sale of `lines` lines, written inline: 14 tokens a line."""
    written = " ".join(
        f'{{sku: "SKU-{i}", category: "grocery", quantity: 1, unitPrice: "1.00"}}'
        for i in range(lines)
    )
    return f'{{ previewEarn(input: {{storeId: "S1", lines: [{written}]}}) {{ points }} }}'


def nested(depth: int) -> str:
    """Unknown fields nested `depth` deep under customer."""
    return f"{{ customer(lookup: {UNKNOWN_CUSTOMER}) {'{ f ' * depth}{'} ' * depth}}}"


def fragment_bomb(levels: int, spreads: int) -> str:
    """Each fragment spreads the next `spreads` times: spreads**levels copies of `stores`,
    written in a few hundred characters."""
    fragments = [
        f"fragment F{i} on Query {{ {' '.join([f'...F{i + 1}'] * spreads)} }}"
        for i in range(levels)
    ]
    return " ".join(["{ ...F0 }", *fragments, f"fragment F{levels} on Query {{ stores {{ id }} }}"])


def aliases(count: int) -> str:
    return "{ " + " ".join(f"a{i}: stores {{ id }}" for i in range(count)) + " }"


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Starlette]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


def http_client(
    app: Starlette, token: str | None = None, *, address: str = ADDRESS
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 123)),
        base_url="http://testserver",
        headers=bearer(token) if token else {},
    )


async def ask(http: httpx.AsyncClient, query: str, variables: Any = None) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def messages(body: dict[str, Any]) -> list[str]:
    return [error["message"] for error in body.get("errors", [])]


def server_faults(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the schema logged as unexpected errors: faults of the server, not the client."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "api.schema" and record.levelno >= logging.ERROR
    ]


def admin_of(settings: Settings) -> str:
    return mint(settings, Role.ADMIN, stores=(), terminal=None, staff="admin-1")


@pytest.fixture
def sqlite_settings(sqlite_url: str) -> Settings:
    return Settings(database_url=sqlite_url)


@pytest.fixture
async def admin(sqlite_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An admin's client of an app with the default limits, over the shared SQLite file."""
    async with serving(sqlite_settings) as app, http_client(app, admin_of(sqlite_settings)) as c:
        yield c


# --- depth -----------------------------------------------------------------------------


async def test_a_document_nested_past_max_query_depth_is_refused(
    admin: httpx.AsyncClient,
) -> None:
    body = await ask(admin, nested(10))

    assert body["data"] is None
    assert "'anonymous' exceeds maximum operation depth of 8" in messages(body)


async def test_the_deepest_document_the_schema_allows_is_within_max_query_depth(
    admin: httpx.AsyncClient,
) -> None:
    deepest = (
        f"{{ customer(lookup: {UNKNOWN_CUSTOMER}) {{ transactions {{ edges {{ node "
        "{ recordedBy { staffId } } } } } }"
    )

    assert await ask(admin, deepest) == {"data": {"customer": None}}


@pytest.mark.parametrize(
    ("selection", "refused"),
    [("node { id }", False), ("node { recordedBy { staffId } }", True)],
    ids=["depth-4-accepted", "depth-5-refused"],
)
async def test_max_query_depth_follows_its_setting(
    sqlite_settings: Settings, selection: str, refused: bool
) -> None:
    settings = sqlite_settings.model_copy(update={"max_query_depth": 4})
    query = (
        f"{{ customer(lookup: {UNKNOWN_CUSTOMER}) "
        f"{{ transactions {{ edges {{ {selection} }} }} }} }}"
    )
    async with serving(settings) as app, http_client(app, admin_of(settings)) as http:
        body = await ask(http, query)

    if refused:
        assert body["data"] is None
        assert messages(body) == ["'anonymous' exceeds maximum operation depth of 4"]
    else:
        assert body == {"data": {"customer": None}}


# --- tokens ----------------------------------------------------------------------------


async def test_a_document_over_max_query_tokens_is_refused_unparsed(
    admin: httpx.AsyncClient,
) -> None:
    body = await ask(admin, preview_sale(145))

    assert body["data"] is None
    assert messages(body) == [
        "Syntax Error: Document contains more than 2000 tokens. Parsing aborted."
    ]


async def test_a_sale_of_130_lines_written_inline_is_within_max_query_tokens(
    gql: GraphQLClient,
) -> None:
    await create_store(gql)

    preview = await gql.data(preview_sale(130))

    assert preview == {"previewEarn": {"points": 130}}


# --- aliases ---------------------------------------------------------------------------


async def test_more_aliases_than_max_aliases_are_refused(admin: httpx.AsyncClient) -> None:
    body = await ask(admin, aliases(16))

    assert body["data"] is None
    assert messages(body) == ["16 aliases found. Allowed: 15"]


async def test_max_aliases_aliases_are_accepted(admin: httpx.AsyncClient) -> None:
    body = await ask(admin, aliases(15))

    assert "errors" not in body
    assert len(body["data"]) == 15


# --- cost ------------------------------------------------------------------------------


async def test_an_operation_costing_more_than_max_query_cost_is_refused_as_too_complex(
    admin: httpx.AsyncClient,
) -> None:
    body = await ask(admin, pages(3, "100"))

    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["message"].startswith("the operation costs 6304, more than the 5000 allowed")


async def test_a_page_size_given_as_a_variable_is_costed_as_the_largest_page(
    admin: httpx.AsyncClient,
) -> None:
    query = "query($n: Int) " + pages(3, "$n")

    body = await ask(admin, query, {"n": 1})

    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["QUERY_TOO_COMPLEX"]


@pytest.mark.parametrize(
    ("count", "first"), [(2, "100"), (3, "20"), (3, "1")], ids=["2x100", "3x20", "3x1"]
)
async def test_an_operation_within_max_query_cost_is_accepted(
    admin: httpx.AsyncClient, count: int, first: str
) -> None:
    assert await ask(admin, pages(count, first)) == {"data": {"customer": None}}


async def test_a_fragment_bomb_is_refused_without_expanding_every_spread(
    admin: httpx.AsyncClient,
) -> None:
    """7 fragments, each spreading the next 7 times: 520 characters that name `stores`
    823,543 times. Refusing it must not cost the server seconds of its only event loop."""
    bomb = fragment_bomb(levels=7, spreads=7)
    assert len(bomb) < 600

    started = time.perf_counter()
    body = await ask(admin, bomb)
    elapsed = time.perf_counter() - started

    assert body["data"] is None
    assert body["errors"]
    assert elapsed < 1.0, f"the fragment bomb held the event loop for {elapsed:.1f}s"


async def test_an_unknown_fragment_is_refused_as_unknown_not_as_an_internal_error(
    admin: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    body = await ask(admin, "{ stores { ...Nope } }")

    assert body["data"] is None
    assert "Unknown fragment 'Nope'." in messages(body)
    assert server_faults(caplog) == []


async def test_an_empty_selection_is_answered_without_an_internal_error(
    admin: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """`{ }`: whether the answer is empty data or a syntax error, the depth limit must not
    fail on it (with "max() arg is an empty sequence") nor show the client its failure."""
    body = await ask(admin, "{ }")

    assert server_faults(caplog) == []
    assert not any("max()" in message for message in messages(body)), body


# --- page size -------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "refused"), [(100, False), (101, True)])
async def test_a_page_is_at_most_100_transactions(
    gql: GraphQLClient, first: int, refused: bool
) -> None:
    customer = await enroll(gql, email="pages@example.com")
    query = (
        "query($id: ID!) { customer(lookup: {id: $id}) { "
        f"transactions(first: {first}) {{ edges {{ cursor }} }} }} }}"
    )

    body = await gql.raw(query, {"id": customer["id"]})

    if refused:
        assert body["data"] == {"customer": None}
        [error] = body["errors"]
        assert error["extensions"]["code"] == "INVALID_INPUT"
        assert error["message"] == "first must be between 0 and 100"
    else:
        assert body == {"data": {"customer": {"transactions": {"edges": []}}}}


# --- batching and transport ------------------------------------------------------------


async def test_a_batch_of_operations_is_refused_with_400(admin: httpx.AsyncClient) -> None:
    batch = [{"query": STORES}, {"query": STORES}]

    response = await admin.post("/graphql", json=batch)
    single = await admin.post("/graphql", json=batch[0])

    assert response.status_code == 400
    assert response.text == "Batching is not enabled"
    assert single.status_code == 200


NOT_REQUESTS = {
    # Two kilobytes of brackets reach the interpreter's recursion limit while parsing.
    "nested-brackets": (
        '{"query": "{ stores { id } }", "variables": {"v": ' + "[" * 1000 + "]" * 1000 + "}}"
    ).encode(),
    "integer-of-5000-digits": (
        '{"query": "query($n: Int) { stores { id } }", "variables": {"n": ' + "9" * 5000 + "}}"
    ).encode(),
    "null": b"null",
    "number": b"1",
    "string": b'"{ stores { id } }"',
    "invalid-utf-8": b'{"query": "{ stores { id } }\xff"}',
}


@pytest.mark.parametrize("body", NOT_REQUESTS.values(), ids=NOT_REQUESTS.keys())
async def test_a_json_body_that_is_not_a_graphql_request_gets_400_not_a_server_error(
    sqlite_settings: Settings, body: bytes
) -> None:
    headers = {"content-type": "application/json", **bearer(admin_of(sqlite_settings))}
    async with serving(sqlite_settings) as app:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.post("/graphql", content=body, headers=headers)

    assert response.status_code == 400, (response.status_code, response.text[:200])


async def test_a_subscription_posted_over_http_is_refused_as_the_clients_mistake(
    admin: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Subscriptions are served over WebSocket; over plain HTTP they get a clear refusal,
    never the masked "Unexpected error." of a server fault."""
    response = await admin.post(
        "/graphql", json={"query": SUBSCRIBE, "variables": {"customerId": "no-such-customer"}}
    )

    assert response.status_code in (200, 400, 405)
    assert "Unexpected error." not in response.text
    assert server_faults(caplog) == []
    if response.status_code == 200:
        body = response.json()
        assert body["data"] is None
        assert all(message for message in messages(body))


# --- WebSocket -------------------------------------------------------------------------


async def subscribe(ws: AsyncWebSocketSession, protocol: str, id_: str, customer_id: str) -> None:
    kind = "subscribe" if protocol == "graphql-transport-ws" else "start"
    payload = {"query": SUBSCRIBE, "variables": {"customerId": customer_id}}
    await ws.send_json({"id": id_, "type": kind, "payload": payload})


async def initialise(ws: AsyncWebSocketSession, token: str) -> None:
    await ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    assert (await next_message(ws))["type"] == "connection_ack"


async def message_for(ws: AsyncWebSocketSession, id_: str) -> dict[str, Any]:
    """The next message about operation `id_`, passing over those about others."""
    while True:
        message = await next_message(ws)
        if message.get("id") == id_:
            return message


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
async def test_the_eleventh_subscription_on_one_connection_is_refused(
    app: Starlette, gql: GraphQLClient, admin_token: str, protocol: str
) -> None:
    customer = await enroll(gql, email="watcher@example.com")
    snapshot = "next" if protocol == "graphql-transport-ws" else "data"
    stop = "complete" if protocol == "graphql-transport-ws" else "stop"

    async with websocket_client(app) as http, open_ws(http, protocol) as ws:
        await initialise(ws, admin_token)
        for number in range(1, 11):
            await subscribe(ws, protocol, str(number), customer["id"])
            accepted = await next_message(ws)
            assert (accepted["type"], accepted["id"]) == (snapshot, str(number)), accepted
        await subscribe(ws, protocol, "11", customer["id"])
        refused = await next_message(ws)
        await ws.send_json({"id": "1", "type": stop})
        await subscribe(ws, protocol, "12", customer["id"])
        after_one_ended = await message_for(ws, "12")

    assert (refused["type"], refused["id"]) == ("error", "11")
    payload = refused["payload"]
    first_error = payload[0] if isinstance(payload, list) else payload
    assert first_error["message"] == "Subscription limit reached"
    assert (after_one_ended["type"], after_one_ended["id"]) == (snapshot, "12")


async def test_document_limits_apply_to_subscriptions_over_websocket(
    app: Starlette, admin_token: str
) -> None:
    selection = " ".join(f"b{i}: balance" for i in range(16))
    query = f'subscription {{ balanceChanged(customerId: "x") {{ {selection} }} }}'

    async with websocket_client(app) as http, open_ws(http, "graphql-transport-ws") as ws:
        await initialise(ws, admin_token)
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": query}})
        refused = await next_message(ws)

    assert refused["type"] == "error"
    assert [error["message"] for error in refused["payload"]] == ["16 aliases found. Allowed: 15"]


# --- text no database stores, written in the document ------------------------------------

# GraphQL escapes, as a client's JSON carries them: the document's text holds `\u0000`.
UNSTORABLE_DOCUMENTS = {
    "customer lookup, NUL": '{ customer(lookup: {email: "a\\u0000b@example.com"}) { id } }',
    "bulk award, NUL": '{ bulkAward(id: "job-\\u0000") { id } }',
    "clear display, NUL": (
        'mutation { clearDisplay(input: {terminalId: "T\\u0000", storeId: "S1"}) '
        "{ userErrors { code } } }"
    ),
}


@pytest.mark.parametrize("document", UNSTORABLE_DOCUMENTS.values(), ids=UNSTORABLE_DOCUMENTS)
async def test_text_no_database_stores_written_in_the_document_is_invalid_input(
    admin: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, document: str
) -> None:
    caplog.set_level(logging.ERROR)

    body = await ask(admin, document)

    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert error["message"] == "this text cannot be stored: it holds a NUL or a lone surrogate"
    assert server_faults(caplog) == []


async def test_a_lone_surrogate_escape_in_the_document_is_a_syntax_error(
    admin: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """graphql-core's lexer refuses it before any rule runs (the JSON of the request
    cannot carry one raw: api/view.py)."""
    caplog.set_level(logging.ERROR)

    body = await ask(admin, '{ customer(lookup: {email: "\\ud800@example.com"}) { id } }')

    assert body["data"] is None
    assert messages(body)[0].startswith("Syntax Error: Invalid Unicode escape sequence")
    assert server_faults(caplog) == []


async def test_the_same_text_as_a_plain_escape_is_accepted(admin: httpx.AsyncClient) -> None:
    body = await ask(admin, '{ customer(lookup: {email: "a\\u0041b@example.com"}) { id } }')

    assert body == {"data": {"customer": None}}


async def test_text_no_database_stores_is_refused_in_a_subscription_over_websocket(
    app: Starlette, admin_token: str
) -> None:
    query = 'subscription { balanceChanged(customerId: "x\\u0000") { balance } }'

    async with websocket_client(app) as http, open_ws(http, "graphql-transport-ws") as ws:
        await initialise(ws, admin_token)
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": query}})
        refused = await next_message(ws)

    assert refused["type"] == "error"
    assert [error["extensions"]["code"] for error in refused["payload"]] == ["INVALID_INPUT"]


@pytest.fixture
async def impatient_app(sqlite_settings: Settings) -> AsyncIterator[Starlette]:
    """connection_init must come within 0.2 s."""
    settings = sqlite_settings.model_copy(update={"connection_init_timeout_seconds": 0.2})
    async with serving(settings) as app:
        yield app


async def closed_code(ws: AsyncWebSocketSession, within: float) -> int | None:
    """The close code if the server closes the socket within `within` seconds."""
    try:
        message = await ws.receive_json(timeout=within)
    except WebSocketDisconnect as closed:
        return closed.code
    except TimeoutError:
        return None
    raise AssertionError(f"expected the socket to close, got {message}")


async def test_a_connection_that_never_sends_connection_init_is_closed_with_4408(
    impatient_app: Starlette,
) -> None:
    async with websocket_client(impatient_app) as http, open_ws(http, "graphql-transport-ws") as ws:
        code = await closed_code(ws, within=2.0)

    assert code == 4408


async def test_a_connection_initialised_in_time_stays_open_past_the_timeout(
    impatient_app: Starlette,
) -> None:
    token = admin_of(app_settings(impatient_app))
    async with websocket_client(impatient_app) as http, open_ws(http, "graphql-transport-ws") as ws:
        await initialise(ws, token)
        await asyncio.sleep(0.5)
        await ws.send_json({"type": "ping"})
        answer = await next_message(ws)

    assert answer == {"type": "pong"}


async def test_a_legacy_graphql_ws_connection_that_never_initialises_is_closed_too(
    impatient_app: Starlette,
) -> None:
    """The timeout guards every subprotocol the app speaks: an idle socket that never
    authenticates must not stay open on the legacy protocol either."""
    async with websocket_client(impatient_app) as http, open_ws(http, "graphql-ws") as ws:
        code = await closed_code(ws, within=2.0)

    assert code is not None, "a graphql-ws socket without connection_init is still open after 2s"


def app_settings(app: Starlette) -> Settings:
    settings: Settings = app.state.services.settings
    return settings


# --- production mode -------------------------------------------------------------------


@pytest.fixture
def production_settings(sqlite_settings: Settings) -> Settings:
    return Settings(
        database_url=sqlite_settings.database_url, env="production", auth_secret=PRODUCTION_SECRET
    )


INTROSPECTION = ["{ __schema { types { name } } }", '{ __type(name: "Query") { name } }']


@pytest.mark.parametrize("query", INTROSPECTION, ids=["schema", "type"])
async def test_production_refuses_introspection(production_settings: Settings, query: str) -> None:
    async with (
        serving(production_settings) as app,
        http_client(app, admin_of(production_settings)) as http,
    ):
        body = await ask(http, query)

    assert body["data"] is None
    assert messages(body)
    assert all("introspection has been disabled" in message for message in messages(body))


@pytest.mark.parametrize("query", INTROSPECTION, ids=["schema", "type"])
async def test_development_allows_introspection(admin: httpx.AsyncClient, query: str) -> None:
    body = await ask(admin, query)

    assert "errors" not in body


MISSPELT = [
    "{ storez { id } }",
    "{ stores { idd } }",
    '{ customer(lookup: {emial: "a@example.com"}) { id } }',
    '{ customer(lookpu: {email: "a@example.com"}) { id } }',
]


@pytest.mark.parametrize("query", MISSPELT, ids=["field", "subfield", "input-field", "argument"])
async def test_production_errors_suggest_no_names(
    production_settings: Settings, query: str
) -> None:
    async with (
        serving(production_settings) as app,
        http_client(app, admin_of(production_settings)) as http,
    ):
        body = await ask(http, query)

    assert body["data"] is None
    assert messages(body)
    assert not any("Did you mean" in message for message in messages(body)), body


@pytest.mark.parametrize("query", MISSPELT[:3], ids=["field", "subfield", "input-field"])
async def test_development_errors_suggest_the_name_meant(
    admin: httpx.AsyncClient, query: str
) -> None:
    body = await ask(admin, query)

    assert any("Did you mean" in message for message in messages(body)), body


@pytest.mark.parametrize(
    "secret",
    [None, DEVELOPMENT_SECRET, "s" * 31],
    ids=["no-secret", "development-secret", "31-characters"],
)
def test_production_settings_refuse_a_missing_or_short_secret(
    monkeypatch: pytest.MonkeyPatch, secret: str | None
) -> None:
    monkeypatch.delenv("LOYALTY_AUTH_SECRET", raising=False)
    given: dict[str, Any] = {} if secret is None else {"auth_secret": secret}

    with pytest.raises(ValidationError) as refused:
        Settings(env="production", **given)

    [error] = refused.value.errors()
    assert isinstance(error["ctx"]["error"], InsecureConfiguration)
    assert "LOYALTY_AUTH_SECRET of at least 32 characters" in error["msg"]


def test_production_settings_accept_a_secret_of_32_characters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LOYALTY_AUTH_SECRET", raising=False)

    settings = Settings(env="production", auth_secret=PRODUCTION_SECRET)

    assert settings.is_production


# --- rate limits -----------------------------------------------------------------------


def limited(settings: Settings, **update: object) -> Settings:
    return settings.model_copy(
        update={"rate_limit": "3/minute", "anonymous_rate_limit": "3/minute", **update}
    )


async def statuses(http: httpx.AsyncClient, count: int, **headers: str) -> list[int]:
    sent = [
        await http.post("/graphql", json={"query": STORES}, headers=headers) for _ in range(count)
    ]
    return [response.status_code for response in sent]


async def test_a_token_past_its_rate_limit_gets_429_while_another_token_passes(
    sqlite_settings: Settings,
) -> None:
    settings = limited(sqlite_settings)
    busy = mint(settings, Role.CASHIER, staff="busy")
    quiet = mint(settings, Role.CASHIER, staff="quiet")
    async with serving(settings) as app, http_client(app, busy) as http:
        allowed = await statuses(http, 3)
        refused = await http.post("/graphql", json={"query": STORES})
        other = await statuses(http, 1, **bearer(quiet))

    assert allowed == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "60"
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert refused.json()["errors"][0]["message"] == "rate limit exceeded"
    assert other == [200]


async def test_anonymous_requests_are_limited_per_client_address(
    sqlite_settings: Settings,
) -> None:
    settings = limited(sqlite_settings)
    async with (
        serving(settings) as app,
        http_client(app, address="10.0.0.1") as first,
        http_client(app, address="10.0.0.2") as second,
    ):
        allowed = await statuses(first, 3)
        refused = await statuses(first, 1)
        garbage_token = await statuses(first, 1, Authorization="Bearer not.a.jwt")
        other_address = await statuses(second, 1)

    assert allowed == [200, 200, 200]
    assert refused == [429]
    assert garbage_token == [429]
    assert other_address == [200]


@pytest.mark.parametrize(
    "respelt",
    ["bearer {}", "BEARER {}", "Bearer  {}"],
    ids=["lower-case", "upper-case", "two-spaces"],
)
async def test_the_rate_limit_cannot_be_dodged_by_respelling_the_authorization_header(
    sqlite_settings: Settings, respelt: str
) -> None:
    settings = limited(sqlite_settings)
    token = mint(settings, Role.CASHIER)
    async with serving(settings) as app, http_client(app, token) as http:
        allowed = await statuses(http, 3)
        dodged = await statuses(http, 1, Authorization=respelt.format(token))

    assert allowed == [200, 200, 200]
    assert dodged == [429]


async def shared(*apps: Starlette) -> None:
    """Every process's counts sent to Redis, then everyone's read back (what each process
    does every LOYALTY_RATE_LIMIT_SYNC_SECONDS while requests come)."""
    for _ in range(2):
        for app in apps:
            await app.state.services.rate_limits.counters.sync()


async def test_rate_limits_in_redis_are_counted_across_processes(
    sqlite_settings: Settings, redis_prefix: str
) -> None:
    settings = limited(sqlite_settings, redis_url=REDIS_URL, redis_prefix=redis_prefix)
    token = mint(settings, Role.CASHIER, staff="busy")
    other = mint(settings, Role.CASHIER, staff="quiet")
    async with (
        serving(settings) as one,
        serving(settings) as two,
        http_client(one, token) as first,
        http_client(two, token) as second,
    ):
        allowed = await statuses(first, 2)
        await shared(one, two)
        allowed += await statuses(second, 1)
        await shared(one, two)
        refused = await second.post("/graphql", json={"query": STORES})
        also_refused = await statuses(first, 1)
        other_token = await statuses(second, 1, **bearer(other))

    assert allowed == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert also_refused == [429]
    assert other_token == [200]
