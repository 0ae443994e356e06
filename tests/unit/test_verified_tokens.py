"""A token verified once is not checked again until it expires; a changed one always is."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from api.auth import (
    CLOCK_SKEW,
    VERIFIED_TOKENS_KEPT,
    AuthenticationFailed,
    Role,
    TokenIssuer,
)

SECRET = "a-secret-of-at-least-thirty-two-characters"
MINTED_AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Clock:
    """What the issuer reads as now: moved by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).timestamp()

    def __call__(self) -> float:
        return self.now


def minted(issuer: TokenIssuer, *, staff: str = "ada", ttl: timedelta = timedelta(hours=8)) -> str:
    return issuer.mint(
        role=Role.CASHIER,
        staff_id=staff,
        stores=["S1"],
        terminal_id="T1",
        now=datetime.now(UTC),
        ttl=ttl,
    )


def test_a_token_verified_again_gives_the_same_principal() -> None:
    issuer = TokenIssuer(SECRET)
    token = minted(issuer)

    first, again = issuer.verify(token), issuer.verify(token)

    assert first == again
    assert first.staff_id == "ada"
    assert first.stores == frozenset({"S1"})


def test_a_verified_token_is_refused_once_it_expires() -> None:
    clock = Clock()
    issuer = TokenIssuer(SECRET, clock)
    token = minted(issuer, ttl=timedelta(minutes=5))
    issuer.verify(token)

    clock.now += timedelta(minutes=5).total_seconds() + CLOCK_SKEW.total_seconds()

    with pytest.raises(AuthenticationFailed, match="the token has expired"):
        issuer.verify(token)


def test_a_verified_token_is_accepted_until_the_clock_skew_has_passed_too() -> None:
    clock = Clock()
    issuer = TokenIssuer(SECRET, clock)
    token = minted(issuer, ttl=timedelta(minutes=5))
    issuer.verify(token)

    clock.now += timedelta(minutes=5).total_seconds() + CLOCK_SKEW.total_seconds() - 2

    assert issuer.verify(token).staff_id == "ada"


def test_a_token_changed_after_it_was_verified_is_refused() -> None:
    issuer = TokenIssuer(SECRET)
    token = minted(issuer)
    issuer.verify(token)
    header, payload, signature = token.split(".")
    claims = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    promoted = claims.replace(b'"role":"cashier"', b'"role":"admin"')
    assert promoted != claims
    forged = ".".join((header, base64.urlsafe_b64encode(promoted).rstrip(b"=").decode(), signature))

    with pytest.raises(AuthenticationFailed, match="invalid token"):
        issuer.verify(forged)


def test_a_token_of_another_secret_is_refused_though_one_like_it_was_verified() -> None:
    issuer = TokenIssuer(SECRET)
    issuer.verify(minted(issuer))
    other = minted(TokenIssuer("another-secret-of-at-least-thirty-two-chars"))

    with pytest.raises(AuthenticationFailed, match="invalid token"):
        issuer.verify(other)


def test_a_token_already_expired_when_first_seen_is_refused() -> None:
    issuer = TokenIssuer(SECRET)
    expired = issuer.mint(
        role=Role.CASHIER,
        staff_id="ada",
        stores=["S1"],
        terminal_id="T1",
        now=MINTED_AT - timedelta(days=1),
        ttl=timedelta(hours=1),
    )

    for _ in range(2):
        with pytest.raises(AuthenticationFailed, match="the token has expired"):
            issuer.verify(expired)


def test_the_oldest_verified_tokens_are_forgotten_past_the_limit_and_verified_anew() -> None:
    clock = Clock()
    issuer = TokenIssuer(SECRET, clock)
    first = minted(issuer, staff="first", ttl=timedelta(minutes=5))
    issuer.verify(first)
    for number in range(VERIFIED_TOKENS_KEPT):
        issuer.verify(minted(issuer, staff=f"staff-{number}"))

    # Forgotten, so verified anew by PyJWT (the system clock: still valid), not refused
    # by the kept expiry, which the moved clock has passed.
    clock.now += timedelta(hours=1).total_seconds()

    assert issuer.verify(first).staff_id == "first"
