"""Rate limits per token (per IP address without a valid one), with the `limits` library.

Counters live in Redis when LOYALTY_REDIS_URL is set, so every process counts
together; in process otherwise. The defaults are far above what a busy till
sends. If Redis is unreachable the request goes through: a till must not stop
selling because a counter cannot be read.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import REQUEST_AUTHENTICATION, Authentication, TokenIssuer
from api.errors import RATE_LIMITED
from api.settings import Settings

logger = logging.getLogger(__name__)

LIMITED_PATHS = ("/graphql",)
# The dashboard's CSV downloads run the whole analytics query: counted like GraphQL.
LIMITED_PREFIXES = ("/dashboard/",)


@dataclass(frozen=True)
class RateLimits:
    limiter: MovingWindowRateLimiter
    per_token: RateLimitItem
    per_address: RateLimitItem
    tokens: TokenIssuer

    @classmethod
    def of(cls, settings: Settings, tokens: TokenIssuer) -> RateLimits:
        storage: Storage = MemoryStorage()
        if settings.redis_url is not None:
            storage = RedisStorage(
                f"async+{settings.redis_url}",
                implementation="redispy",
                key_prefix=f"{settings.redis_prefix}:rate",
            )
        return cls(
            MovingWindowRateLimiter(storage),
            parse(settings.rate_limit),
            parse(settings.anonymous_rate_limit),
            tokens,
        )

    async def allows(self, authentication: Authentication, address: str) -> bool:
        item, key = self._bucket(authentication, address)
        try:
            return await self.limiter.hit(item, key)
        except Exception:
            logger.warning("rate limit storage unreachable; letting the request through")
            return True

    def _bucket(self, authentication: Authentication, address: str) -> tuple[RateLimitItem, str]:
        """A valid token's own bucket (keyed by the token, not by how the header spells
        it); the client's address otherwise."""
        token = authentication.token
        if token is None:
            return self.per_address, f"address:{address}"
        return self.per_token, f"token:{hashlib.sha256(token.encode()).hexdigest()[:32]}"


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
        if await limits.allows(authentication, address):
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await _too_many_requests(send)
        else:
            await send({"type": "websocket.close", "code": 4429, "reason": "rate limit exceeded"})


async def _too_many_requests(send: Send) -> None:
    body = json.dumps(
        {"errors": [{"message": "rate limit exceeded", "extensions": {"code": RATE_LIMITED}}]}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [(b"content-type", b"application/json"), (b"retry-after", b"60")],
        }
    )
    await send({"type": "http.response.body", "body": body})
