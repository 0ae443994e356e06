"""Use cases: load, apply pure domain rules, record, commit once."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal

from domain.accounts import Account
from domain.commands import (
    AdjustPoints,
    CreateStore,
    EnrollCustomer,
    RedeemPoints,
)
from domain.customers import Customer
from domain.errors import (
    CustomerNotFound,
    IdempotencyKeyReused,
    InsufficientPoints,
    InvalidInput,
    RewardInactive,
    RewardNotFound,
    refusal,
)
from domain.events import BalanceChanged
from domain.expiry import ExpiryPolicy
from domain.ledger import JournalEntry, PostedEntry
from domain.ports import StoredOutcome, UnitOfWork
from domain.rewards import Redemption, Reward, points_off, redemption_of
from domain.stores import Store

Posting = tuple[Account, JournalEntry]


@dataclass(frozen=True)
class Terms:
    """The programme's settings that the use cases apply."""

    base_rate: Decimal = Decimal(1)
    point_value: Decimal = Decimal("0.01")
    earn_on_points_paid: bool = False
    refund_returns_redeemed_points: bool = True
    expiry: ExpiryPolicy = field(default_factory=ExpiryPolicy)


@dataclass(frozen=True)
class PointsResult:
    posted: PostedEntry
    account: Account
    redemption: Redemption | None = None


async def create_store(uow: UnitOfWork, cmd: CreateStore) -> Store:
    store = Store(id=cmd.id, name=cmd.name)
    async with uow:
        await uow.stores.add(store)
        await uow.commit()
    return store


async def enroll_customer(uow: UnitOfWork, cmd: EnrollCustomer) -> Customer:
    customer_id = str(uuid.uuid4())
    customer = Customer(
        id=customer_id,
        name=cmd.name,
        identifiers=cmd.identifiers,
        account=Account(customer_id, balance=0, balance_version=0, lifetime_earned=0),
        enrolled_at=cmd.enrolled_at,
    )
    async with uow:
        await uow.customers.add(customer)
        await uow.commit()
    return customer


async def redeem_points(uow: UnitOfWork, cmd: RedeemPoints, terms: Terms = Terms()) -> PointsResult:
    """Spend points on a reward, or as money off at the programme's point value."""
    spent: list[tuple[Redemption, Reward | None]] = []

    async def redeem(account: Account) -> Posting:
        if cmd.points is not None:
            spent.append((points_off(cmd.points, terms.point_value), None))
            return account.redeem(cmd.points, cmd.movement)
        reward = await find_reward(uow, str(cmd.reward_id))
        points = reward.points_to_redeem(cmd.occurred_at, cmd.store_id)
        spent.append((redemption_of(reward, voucher_code()), reward))
        return account.redeem(points, cmd.movement, reward.id)

    async def record(posted: PostedEntry) -> Redemption:
        redemption, reward = spent[0]
        await record_redemption(uow, posted, redemption, reward)
        return redemption

    return await _take_once(uow, cmd, redeem, record)


def voucher_code() -> str:
    return uuid.uuid4().hex[:12].upper()


async def record_redemption(
    uow: UnitOfWork, posted: PostedEntry, redemption: Redemption, reward: Reward | None
) -> None:
    """Keep what the till was told to apply; a reward with stock has one fewer."""
    if reward is not None and reward.stock is not None:
        await _take_from_stock(uow, reward)
    await uow.redemptions.add(posted.id, redemption)


async def _take_from_stock(uow: UnitOfWork, reward: Reward) -> None:
    if not await uow.rewards.take_one(reward.id):
        raise RewardInactive(f"reward {reward.id} is out of stock", ("input", "rewardId"))


async def adjust_points(uow: UnitOfWork, cmd: AdjustPoints) -> PointsResult:
    async def adjust(account: Account) -> Posting:
        return account.adjust(cmd.points, cmd.movement)

    return await _take_once(uow, cmd, adjust)


async def _take_once(
    uow: UnitOfWork,
    cmd: RedeemPoints | AdjustPoints,
    take: Callable[[Account], Awaitable[Posting]],
    record: Callable[[PostedEntry], Awaitable[Redemption]] | None = None,
) -> PointsResult:
    """A movement that may be refused for want of points; the refusal is kept with the key,
    so a retry stays refused even after the customer earns more."""
    async with uow:
        previous = await uow.idempotency.claim(cmd.idempotency_key, cmd.fingerprint())
        if previous is not None:
            return await replay(uow, previous, cmd.fingerprint())
        await require_store(uow, cmd.store_id)
        account = await lock_account(uow, cmd.customer_id)
        try:
            account, entry = await take(account)
        except InsufficientPoints as refused:
            await uow.idempotency.refuse(cmd.idempotency_key, refused)
            await uow.commit()
            raise
        posted = await post_once(uow, account, entry)
        redemption = None if record is None else await record(posted)
        await uow.commit()
    return PointsResult(posted, account, redemption)


async def current_account(uow: UnitOfWork, customer_id: str | None) -> Account | None:
    if customer_id is None:
        return None
    account = await uow.customers.account(customer_id)
    if account is None:
        raise CustomerNotFound(f"no customer {customer_id}", ("input", "customerId"))
    return account


async def require_store(uow: UnitOfWork, store_id: str) -> None:
    if await uow.stores.get(store_id) is None:
        raise InvalidInput(f"unknown store {store_id!r}", ("input", "storeId"))


async def lock_account(uow: UnitOfWork, customer_id: str) -> Account:
    account = await uow.customers.lock_account(customer_id)
    if account is None:
        raise CustomerNotFound(f"no customer {customer_id}", ("input", "customerId"))
    return account


async def find_reward(uow: UnitOfWork, reward_id: str) -> Reward:
    reward = await uow.rewards.get(reward_id)
    if reward is None:
        raise RewardNotFound(f"no reward {reward_id}", ("input", "rewardId"))
    return reward


async def post(uow: UnitOfWork, account: Account, entry: JournalEntry) -> PostedEntry:
    await uow.customers.save_account(account)
    posted = await uow.journal.add(entry)
    if entry.points:
        uow.record(BalanceChanged.of(posted))
    return posted


async def post_once(uow: UnitOfWork, account: Account, entry: JournalEntry) -> PostedEntry:
    """Post the entry and bind it to the idempotency key claimed in this unit of work."""
    posted = await post(uow, account, entry)
    await uow.idempotency.complete(str(entry.movement.idempotency_key), posted.id)
    return posted


async def replay(uow: UnitOfWork, previous: StoredOutcome, fingerprint: str) -> PointsResult:
    """A retry gets the first answer back; a different request under the same key, a refusal."""
    if previous.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "this idempotencyKey was used for a different request", ("input", "idempotencyKey")
        )
    if previous.entry_id is None:
        raise refusal(
            str(previous.refusal_code), str(previous.refusal_message), previous.refusal_field
        )
    posted = await uow.journal.get(previous.entry_id)
    assert posted is not None, "an idempotency record points at a missing journal entry"
    account = await uow.customers.account(posted.entry.customer_id)
    assert account is not None, "a journal entry points at a missing customer"
    return PointsResult(posted, account, await uow.redemptions.get(posted.id))
