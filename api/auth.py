"""Who is calling: bearer tokens (JWT, HS256) carrying role, store scope, terminal and staff.

`loyalty token` mints them; every HTTP request and every WebSocket
`connection_init` presents one. A refusal says what is wrong with the token
(missing, malformed, expired) but never why a signature did not match.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import jwt

from domain.ledger import Actor

ISSUER = "loyalty"
AUDIENCE = "loyalty-api"
ALGORITHM = "HS256"
ALL_STORES = "*"
CLOCK_SKEW = timedelta(seconds=30)
MAX_TOKEN_LENGTH = 4096
# A cashier token with this right may refund sales (managers and admins always may).
REFUND_RIGHT = "refund"
GRANTABLE_RIGHTS = frozenset({REFUND_RIGHT})
# Tokens kept verified per process: a till sends the same token with every request.
VERIFIED_TOKENS_KEPT = 1024


class Role(StrEnum):
    CASHIER = "cashier"
    DISPLAY = "display"
    MANAGER = "manager"
    ADMIN = "admin"


class AuthenticationFailed(Exception):
    """The request carries no usable token; the message is safe to show."""


@dataclass(frozen=True)
class Principal:
    role: Role
    staff_id: str
    stores: frozenset[str] | None
    terminal_id: str | None
    rights: frozenset[str] = frozenset()

    def may_act_in(self, store_id: str) -> bool:
        return self.stores is None or store_id in self.stores

    @property
    def only_store(self) -> str | None:
        """The store the token names when it names exactly one (an admin's names none)."""
        if self.stores is None or len(self.stores) != 1:
            return None
        (store,) = self.stores
        return store

    @property
    def sees_personal_data(self) -> bool:
        return self.role is not Role.DISPLAY

    @property
    def sees_audit(self) -> bool:
        return self.role in (Role.MANAGER, Role.ADMIN)

    def actor(self) -> Actor:
        return Actor(staff_id=self.staff_id, role=self.role.value, terminal_id=self.terminal_id)


class TokenIssuer:
    def __init__(self, secret: str, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self._verified = VerifiedTokens(clock)

    def mint(
        self,
        *,
        role: Role,
        staff_id: str,
        stores: Iterable[str],
        terminal_id: str | None,
        now: datetime,
        ttl: timedelta,
        rights: Iterable[str] = (),
    ) -> str:
        scope = sorted(set(stores))
        if role is not Role.ADMIN and not scope:
            raise ValueError(f"a {role} token needs at least one store")
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": staff_id,
            "role": role.value,
            "stores": [ALL_STORES] if role is Role.ADMIN else scope,
            "terminal": terminal_id,
            "rights": sorted(set(rights)),
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        """The token's principal; a token verified before is not checked again until it
        expires (its signature cannot have changed: the cache is keyed by its whole text)."""
        if len(token) > MAX_TOKEN_LENGTH:
            raise AuthenticationFailed("invalid token")
        principal = self._verified.get(token)
        if principal is None:
            principal, expires_at = self._decoded(token)
            self._verified.keep(token, principal, expires_at)
        return principal

    def _decoded(self, token: str) -> tuple[Principal, float]:
        """The principal and the moment the token stops being accepted."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=CLOCK_SKEW,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationFailed("the token has expired") from None
        except jwt.InvalidTokenError:
            raise AuthenticationFailed("invalid token") from None
        # As PyJWT reads it: accepted while now < exp + leeway.
        return _principal(claims), int(claims["exp"]) + CLOCK_SKEW.total_seconds()


class VerifiedTokens:
    """Tokens whose signature and claims were checked, with their principal, until they
    expire: checking an HS256 signature and the claims again costs more than the rest of a
    small query. At most VERIFIED_TOKENS_KEPT, the oldest dropped first. Only tokens that
    verified are kept, so a changed or forged token is always checked."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._kept: dict[str, tuple[Principal, float]] = {}

    def get(self, token: str) -> Principal | None:
        """The principal of a kept token; AuthenticationFailed once it has expired."""
        kept = self._kept.get(token)
        if kept is None:
            return None
        principal, expires_at = kept
        if self._clock() >= expires_at:
            del self._kept[token]
            raise AuthenticationFailed("the token has expired")
        return principal

    def keep(self, token: str, principal: Principal, expires_at: float) -> None:
        if len(self._kept) >= VERIFIED_TOKENS_KEPT:
            del self._kept[next(iter(self._kept))]
        self._kept[token] = (principal, expires_at)


@dataclass(frozen=True)
class Authentication:
    """What one request's Authorization header proved, verified once: the rate limiter
    and the GraphQL context read the same result (`REQUEST_AUTHENTICATION` in the ASGI
    scope's state)."""

    principal: Principal | None
    token: str | None  # the token, when it is valid
    refusal: str  # what is wrong with it, when it is not

    @classmethod
    def of(cls, tokens: TokenIssuer, authorization: str | None) -> Authentication:
        try:
            token = bearer_token(authorization)
            return cls(tokens.verify(token), token, "")
        except AuthenticationFailed as refused:
            return cls(None, None, str(refused))


REQUEST_AUTHENTICATION = "authentication"


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` value, however it is spaced or cased."""
    if not authorization or not authorization.strip():
        raise AuthenticationFailed("authentication required: send Authorization: Bearer <token>")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("the Authorization header must be 'Bearer <token>'")
    return token.strip()


def _principal(claims: dict[str, object]) -> Principal:
    try:
        role = Role(str(claims["role"]))
        stores = claims["stores"]
        terminal = claims.get("terminal")
        rights = claims.get("rights", [])
    except (KeyError, ValueError):
        raise AuthenticationFailed("invalid token") from None
    if not isinstance(stores, list) or not all(isinstance(s, str) for s in stores):
        raise AuthenticationFailed("invalid token")
    if not isinstance(rights, list) or not all(isinstance(r, str) for r in rights):
        raise AuthenticationFailed("invalid token")
    scope = None if ALL_STORES in stores else frozenset(stores)
    return Principal(
        role=role,
        staff_id=str(claims["sub"]),
        stores=scope,
        terminal_id=terminal if isinstance(terminal, str) else None,
        rights=frozenset(rights),
    )


def parse_ttl(text: str) -> timedelta:
    """'8h', '30m', '7d', '90s' -> a duration."""
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit() or int(number) <= 0:
        raise ValueError(f"ttl must look like 90s, 30m, 8h or 7d, not {text!r}")
    return timedelta(**{units[unit]: int(number)})
