"""Rate limits per token (per IP address without a valid one), in the `limits` notation.

Requests are counted in each process, with no I/O on the way (api/rate_counters.py); with
LOYALTY_REDIS_URL set, every process shares its counts through Redis every
LOYALTY_RATE_LIMIT_SYNC_SECONDS, so that all of them count together (each late by at
most that long of the others' requests). The defaults are far above what a busy till
sends. If Redis is unreachable each process counts alone: a till must not stop selling
because a counter cannot be read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import orjson
from limits import RateLimitItem, parse
from redis.asyncio import Redis
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import REQUEST_AUTHENTICATION, VERIFIED_TOKENS_KEPT, Authentication, TokenIssuer
from api.errors import RATE_LIMITED
from api.rate_counters import RateCounters
from api.settings import Settings

LIMITED_PATHS = ("/graphql",)
# The dashboard's CSV downloads run the whole analytics query: counted like GraphQL.
LIMITED_PREFIXES = ("/dashboard/",)
# A sync that cannot reach Redis gives up this soon (requests never wait for it).
REDIS_TIMEOUT_SECONDS = 2.0
TOO_MANY_REQUESTS = orjson.dumps(
    {"errors": [{"message": "rate limit exceeded", "extensions": {"code": RATE_LIMITED}}]}
)


@dataclass(frozen=True)
class RateLimits:
    counters: RateCounters
    per_token: RateLimitItem
    per_address: RateLimitItem
    tokens: TokenIssuer

    @classmethod
    def of(cls, settings: Settings, tokens: TokenIssuer) -> RateLimits:
        redis = None
        if settings.redis_url is not None:
            redis = Redis.from_url(
                settings.redis_url,
                client_name=f"{settings.redis_prefix}:rate",
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
        counters = RateCounters(
            redis, f"{settings.redis_prefix}:rate", settings.rate_limit_sync_seconds
        )
        return cls(
            counters, parse(settings.rate_limit), parse(settings.anonymous_rate_limit), tokens
        )

    def allows(self, authentication: Authentication, address: str) -> bool:
        item, key = self.bucket(authentication, address)
        return self.counters.hit(item, key)

    def bucket(self, authentication: Authentication, address: str) -> tuple[RateLimitItem, str]:
        """A valid token's own bucket (keyed by the token, not by how the header spells
        it); the client's address otherwise."""
        token = authentication.token
        if token is None:
            return self.per_address, f"address:{address}"
        return self.per_token, _token_bucket(token)


@lru_cache(maxsize=VERIFIED_TOKENS_KEPT)
def _token_bucket(token: str) -> str:
    """A token's key: its hash, so that no key names a token (worked out once a token:
    every request of a till sends the same one)."""
    return f"token:{hashlib.sha256(token.encode()).hexdigest()[:32]}"


def _limited(path: str) -> bool:
    return path in LIMITED_PATHS or path.startswith(LIMITED_PREFIXES)


class RateLimitMiddleware:
    """Counts every GraphQL request, WebSocket connection and CSV download; 429 past the
    limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not _limited(scope["path"]):
            await self.app(scope, receive, send)
            return
        limits: RateLimits = scope["app"].state.services.rate_limits
        headers = dict(scope.get("headers") or [])
        authorization = headers.get(b"authorization", b"").decode("latin-1") or None
        address = (scope.get("client") or ("unknown",))[0]
        # Verified once: the GraphQL context takes it from the request's state.
        authentication = Authentication.of(limits.tokens, authorization)
        scope.setdefault("state", {})[REQUEST_AUTHENTICATION] = authentication
        if limits.allows(authentication, address):
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            item, _ = limits.bucket(authentication, address)
            await _too_many_requests(send, item)
        else:
            await send({"type": "websocket.close", "code": 4429, "reason": "rate limit exceeded"})


async def _too_many_requests(send: Send, item: RateLimitItem) -> None:
    """429, to be retried once the limit's window has passed."""
    retry_after = str(item.get_expiry()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [(b"content-type", b"application/json"), (b"retry-after", retry_after)],
        }
    )
    await send({"type": "http.response.body", "body": TOO_MANY_REQUESTS})
