"""Tokens: only a valid one gets in, over HTTP and WebSocket; refusals explain, never leak."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from httpx_ws import WebSocketDisconnect
from starlette.applications import Starlette

from api.auth import ALGORITHM, AUDIENCE, ISSUER, Role, TokenIssuer
from api.settings import Settings
from tests.api.test_balance_subscription import next_message, open_ws
from tests.conftest import bearer, mint, websocket_client

QUERY = "{ stores { id } }"


async def ask(app: Starlette, headers: dict[str, str]) -> dict[str, Any]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://till", headers=headers
    ) as http:
        response = await http.post("/graphql", json={"query": QUERY})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def forged(claims: dict[str, Any], secret: str = "not-the-secret-" * 3) -> str:
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def claims(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    base = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "mallory",
        "role": "admin",
        "stores": ["*"],
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    return {**base, **overrides}


def refusal(body: dict[str, Any]) -> tuple[str, str]:
    assert body["data"] is None
    error = body["errors"][0]
    return error["extensions"]["code"], error["message"]


async def test_a_valid_token_is_let_in(app: Starlette, settings: Settings) -> None:
    body = await ask(app, bearer(mint(settings, Role.CASHIER)))

    assert body == {"data": {"stores": []}}


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "authentication required: send Authorization: Bearer <token>"),
        ({"Authorization": "Basic YWRtaW46YWRtaW4="}, "the Authorization header must be"),
        ({"Authorization": "Bearer"}, "the Authorization header must be"),
        ({"Authorization": "Bearer not.a.jwt"}, "invalid token"),
        ({"Authorization": "Bearer " + "x" * 5000}, "invalid token"),
    ],
    ids=["missing", "other-scheme", "empty-bearer", "malformed", "oversized"],
)
async def test_missing_and_malformed_tokens_are_refused(
    app: Starlette, headers: dict[str, str], message: str
) -> None:
    code, text = refusal(await ask(app, headers))

    assert code == "UNAUTHENTICATED"
    assert text.startswith(message)


async def test_an_expired_token_is_refused_as_expired(app: Starlette, settings: Settings) -> None:
    expired = mint(settings, Role.ADMIN, stores=(), ttl=timedelta(minutes=-5))

    assert refusal(await ask(app, bearer(expired))) == ("UNAUTHENTICATED", "the token has expired")


@pytest.mark.parametrize(
    "token",
    [
        forged(claims()),
        jwt.encode(claims(), key="", algorithm="none"),
        forged(claims(aud="someone-else")),
    ],
    ids=["wrong-secret", "alg-none", "other-audience"],
)
async def test_a_forged_token_is_refused_without_saying_why(
    app: Starlette, settings: Settings, token: str
) -> None:
    body = await ask(app, bearer(token))

    assert refusal(body) == ("UNAUTHENTICATED", "invalid token")
    assert "signature" not in str(body).lower()


async def test_a_token_signed_with_the_secret_but_an_unknown_role_is_refused(
    app: Starlette, settings: Settings
) -> None:
    token = forged(claims(role="superuser"), secret=settings.auth_secret.get_secret_value())

    assert refusal(await ask(app, bearer(token))) == ("UNAUTHENTICATED", "invalid token")


@pytest.mark.parametrize("payload", [{}, {"authorization": "Bearer not.a.jwt"}])
async def test_a_websocket_without_a_valid_token_is_closed_with_4403(
    app: Starlette, payload: dict[str, str]
) -> None:
    async with websocket_client(app) as http, open_ws(http, "graphql-transport-ws") as ws:
        await ws.send_json({"type": "connection_init", "payload": payload})
        with pytest.raises(WebSocketDisconnect) as closed:
            await next_message(ws)

    assert closed.value.code == 4403


async def test_a_websocket_with_a_valid_token_is_acknowledged(
    app: Starlette, settings: Settings
) -> None:
    token = mint(settings, Role.DISPLAY, stores=("S1",), terminal="D1")
    async with websocket_client(app) as http, open_ws(http, "graphql-transport-ws") as ws:
        await ws.send_json(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        )
        acknowledged = await next_message(ws)

    assert acknowledged["type"] == "connection_ack"


async def test_a_request_verifies_its_token_once(
    app: Starlette, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified: list[str] = []
    original = TokenIssuer.verify

    def counting(self: TokenIssuer, token: str) -> Any:
        verified.append(token)
        return original(self, token)

    monkeypatch.setattr(TokenIssuer, "verify", counting)
    token = mint(settings, Role.CASHIER)
    body = await ask(app, bearer(token))
    assert body == {"data": {"stores": []}}
    assert verified == [token]  # by the rate limiter; the context reuses what it found

    verified.clear()
    refused = await ask(app, {"Authorization": "Bearer not-a-token"})
    assert refusal(refused) == ("UNAUTHENTICATED", "invalid token")
    assert verified == ["not-a-token"]
