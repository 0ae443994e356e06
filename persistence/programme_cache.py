"""The stores and every version of the earning rules, kept in memory by each process and
checked in each transaction that uses them.

Triggers on the stores and the earning rules give `programme_version` a new random token
whenever either changes (migration 0016). A movement reads the token in its customer's
lock statement (persistence/customers.py), other work with one SELECT when it first asks;
while the token is the one the cache was loaded at, the cache is what the database holds,
and a change committed by any process shows in the next transaction of every process: it
reads the new token and reloads, in that same transaction. Nothing is sent between
processes, and nothing can be stale for the length of a message's trip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.rules import EarningRule
from domain.stores import Store
from persistence.models import EarningRuleRow, ProgrammeVersionRow, StoreRow
from persistence.programme import rule_of
from persistence.records import record_of

PROGRAMME_TOKEN = select(ProgrammeVersionRow.token).where(ProgrammeVersionRow.id == 1)
ALL_STORES = select(StoreRow)
EVERY_RULE_VERSION = select(EarningRuleRow).order_by(EarningRuleRow.id, EarningRuleRow.version)


@dataclass(frozen=True)
class RuleVersion:
    saved_at: datetime
    rule: EarningRule


@dataclass(frozen=True)
class Programme:
    """The stores and the rules as they stood at one token."""

    token: str | None
    stores: Mapping[str, Store]
    rule_versions: Sequence[RuleVersion]  # by rule id, then version

    def rules_as_of(self, at: datetime) -> list[EarningRule]:
        """The version of every rule that was current at `at`, in rule id order."""
        latest: dict[str, EarningRule] = {}
        for version in self.rule_versions:
            if version.saved_at <= at:
                latest[version.rule.id] = version.rule
        return [latest[rule_id] for rule_id in sorted(latest)]


class ProgrammeCache:
    """One per database per process: the programme at the last token a transaction read."""

    def __init__(self) -> None:
        self._programme: Programme | None = None

    async def at(self, session: AsyncSession, token: str | None) -> Programme:
        """The programme at `token`, read in `session` when the cache holds another. With
        no token (its row gone) it is read every time and not kept."""
        cached = self._programme
        if cached is not None and token is not None and cached.token == token:
            return cached
        programme = await _load(session, token)
        if token is not None:
            self._programme = programme
        return programme


async def read_token(session: AsyncSession) -> str | None:
    token: str | None = await session.scalar(PROGRAMME_TOKEN)
    return token


async def _load(session: AsyncSession, token: str | None) -> Programme:
    stores = {row.id: record_of(Store, row) for row in await session.scalars(ALL_STORES)}
    rules = [
        RuleVersion(row.created_at, rule_of(row))
        for row in await session.scalars(EVERY_RULE_VERSION)
    ]
    return Programme(token, stores, rules)


@dataclass
class ReadUnderLock:
    """What a unit of work's customer lock statement read beside the customer, under its
    lock: the programme's token and how the books stand (each None until read)."""

    token: tuple[str | None] | None = None
    closed_until: tuple[datetime | None] | None = None


class ProgrammeInTransaction:
    """The programme as one unit of work sees it: at the token its lock statement read,
    else at the token read when first asked."""

    def __init__(self, session: AsyncSession, cache: ProgrammeCache, seen: ReadUnderLock):
        self._session = session
        self._cache = cache
        self._seen = seen

    async def programme(self) -> Programme:
        if self._seen.token is None:
            self._seen.token = (await read_token(self._session),)
        return await self._cache.at(self._session, self._seen.token[0])
