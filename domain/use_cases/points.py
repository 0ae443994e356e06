"""Use cases of the points feature: earn on a sale, redeem, adjust, check a sale out in one
call, refund it, and preview what a sale would earn."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from domain.accounts import Account
from domain.errors import InvalidInput, RewardInactive
from domain.ledger import PostedEntry
from domain.points import (
    AdjustPoints,
    Checkout,
    EarnPoints,
    PreviewEarn,
    RecordedSale,
    RedeemPoints,
    RefundSale,
)
from domain.ports import UnitOfWork
from domain.programme import Terms
from domain.refunds import Refund, refund, returned_quantities
from domain.rewards import (
    Redemption,
    Reward,
    RewardsOutlook,
    points_off,
    redemption_against_sale,
    redemption_of,
    rewards_outlook,
)
from domain.rules import EarnCalculation, Sale, calculate, capped_daily, rules_in_force
from domain.sales import allocate_discount, sale_total
from domain.use_cases.customers import current_account, lock_account
from domain.use_cases.movement import (
    claim_movement,
    open_movement,
    post,
    post_once,
    refusal_kept,
)
from domain.use_cases.programme import find_reward
from domain.use_cases.stores import require_store


@dataclass(frozen=True)
class PointsMoved:
    posted: PostedEntry
    redemption: Redemption | None = None


@dataclass(frozen=True)
class CheckedOut:
    earned: PostedEntry
    redeemed: PostedEntry | None
    redemption: Redemption | None
    amount_due: Decimal


@dataclass(frozen=True)
class Refunded:
    reversal: PostedEntry
    refund: Refund


@dataclass(frozen=True)
class EarnPreview:
    calculation: EarnCalculation
    projected_balance: int | None
    outlook: RewardsOutlook

    @property
    def points(self) -> int:
        return self.calculation.points


async def calculate_sale(
    uow: UnitOfWork, sale: Sale, customer_id: str | None, terms: Terms
) -> EarnCalculation:
    """The one computation of a sale's points, with the customer's usage of daily caps."""
    in_force = rules_in_force(await uow.rules.as_of(sale.at), sale)
    used_today: dict[str, Decimal] = {}
    windows = {rule.id: rule.schedule.day_of(sale.at) for rule in capped_daily(in_force)}
    if customer_id is not None and windows:
        used_today = dict(await uow.rules.used_today(customer_id, windows))
    return calculate(in_force, sale, terms.base_rate, used_today)


async def earn_points(uow: UnitOfWork, cmd: EarnPoints, terms: Terms) -> PointsMoved:
    async with uow:
        opened = await open_movement(uow, cmd, cmd.customer_id)
        if isinstance(opened, PostedEntry):
            return PointsMoved(opened)
        sale = Sale.of(cmd.store_id, cmd.occurred_at, cmd.lines)
        calculation = await calculate_sale(uow, sale, cmd.customer_id, terms)
        posted = await post_once(uow, *opened.earn(calculation.points, cmd.movement))
        await uow.sales.record(RecordedSale(cmd, posted, calculation))
        await uow.commit()
    return PointsMoved(posted)


async def redeem_points(uow: UnitOfWork, cmd: RedeemPoints, terms: Terms) -> PointsMoved:
    """Spend points on a reward, or as money off at the programme's point value."""
    async with uow:
        opened = await open_movement(uow, cmd, cmd.customer_id)
        if isinstance(opened, PostedEntry):
            return PointsMoved(opened, await uow.redemptions.get(opened.id))
        points, redemption, reward = await _redemption_asked(uow, cmd, terms)
        async with refusal_kept(uow, cmd):
            account, entry = opened.redeem(points, cmd.movement, cmd.reward_id)
        posted = await post_once(uow, account, entry)
        await record_redemption(uow, posted, redemption, reward)
        await uow.commit()
    return PointsMoved(posted, redemption)


async def _redemption_asked(
    uow: UnitOfWork, cmd: RedeemPoints, terms: Terms
) -> tuple[int, Redemption, Reward | None]:
    """The points a redemption spends, what the till applies for them, and the reward."""
    if cmd.points is not None:
        return cmd.points, points_off(cmd.points, terms.point_value), None
    reward = await find_reward(uow, str(cmd.reward_id))
    points = reward.points_to_redeem(cmd.occurred_at, cmd.store_id)
    return points, redemption_of(reward, voucher_code()), reward


async def adjust_points(uow: UnitOfWork, cmd: AdjustPoints) -> PointsMoved:
    async with uow:
        opened = await open_movement(uow, cmd, cmd.customer_id)
        if isinstance(opened, PostedEntry):
            return PointsMoved(opened)
        async with refusal_kept(uow, cmd):
            account, entry = opened.adjust(cmd.points, cmd.movement)
        posted = await post_once(uow, account, entry)
        await uow.commit()
    return PointsMoved(posted)


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


async def preview_earn(uow: UnitOfWork, query: PreviewEarn, terms: Terms) -> EarnPreview:
    """The same computation as earn_points, with nothing written."""
    async with uow:
        await require_store(uow, query.store_id)
        account = await current_account(uow, query.customer_id)
        sale = Sale.of(query.store_id, query.at, query.lines)
        calculation = await calculate_sale(uow, sale, query.customer_id, terms)
        rewards = [r for r in await uow.rewards.all() if r.available_at(query.at, query.store_id)]
    projected = None if account is None else account.balance_after_credit(calculation.points)
    return EarnPreview(calculation, projected, rewards_outlook(projected or 0, rewards))


def amount_due(cmd: Checkout, redemption: Redemption | None) -> Decimal:
    """What the customer pays in money: the sale's total less what points took off."""
    return max(Decimal(0), sale_total(cmd.lines) - _money_off(redemption))


def _money_off(redemption: Redemption | None) -> Decimal:
    return Decimal(0) if redemption is None else redemption.discount_amount or Decimal(0)


async def checkout(uow: UnitOfWork, cmd: Checkout, terms: Terms) -> CheckedOut:
    """Spend (a reward or points) and earn on one sale, in one transaction, once."""
    async with uow:
        opened = await open_movement(uow, cmd, cmd.customer_id)
        if isinstance(opened, PostedEntry):
            return await _checked_out_before(uow, cmd, opened)
        account, redeemed, redemption = await _spend(uow, opened, cmd, terms)
        discount = _money_off(redemption)
        amounts = None if terms.earn_on_points_paid else allocate_discount(cmd.lines, discount)
        sale = Sale.of(cmd.store_id, cmd.occurred_at, cmd.lines, amounts)
        calculation = await calculate_sale(uow, sale, cmd.customer_id, terms)
        earned = await post_once(uow, *account.earn(calculation.points, cmd.movement))
        await uow.sales.record(RecordedSale(cmd, earned, calculation, discount, redeemed))
        await uow.commit()
    return CheckedOut(earned, redeemed, redemption, amount_due(cmd, redemption))


async def _checked_out_before(uow: UnitOfWork, cmd: Checkout, earned: PostedEntry) -> CheckedOut:
    redeemed = await uow.sales.redeem_entry_of(earned.id)
    redemption = None if redeemed is None else await uow.redemptions.get(redeemed.id)
    return CheckedOut(earned, redeemed, redemption, amount_due(cmd, redemption))


async def _spend(
    uow: UnitOfWork, account: Account, cmd: Checkout, terms: Terms
) -> tuple[Account, PostedEntry | None, Redemption | None]:
    reward: Reward | None = None
    if cmd.reward_id is not None:
        reward = await find_reward(uow, cmd.reward_id)
        points = reward.points_to_redeem(cmd.occurred_at, cmd.store_id)
        redemption = redemption_against_sale(reward, cmd.lines, voucher_code())
    elif cmd.points is not None:
        points, redemption = cmd.points, points_off(cmd.points, terms.point_value)
        if _money_off(redemption) > sale_total(cmd.lines):
            raise InvalidInput("the points are worth more than the sale", ("input", "points"))
    else:
        return account, None, None
    async with refusal_kept(uow, cmd):
        account, entry = account.redeem(points, cmd.movement, cmd.reward_id)
    redeemed = await post(uow, account, entry)
    await record_redemption(uow, redeemed, redemption, reward)
    return account, redeemed, redemption


async def refund_sale(uow: UnitOfWork, cmd: RefundSale, terms: Terms) -> Refunded:
    """Take back the points a returned part of a sale earned, and give back points spent on
    it, as one REVERSAL entry pointing at the sale's transaction."""
    async with uow:
        replayed = await claim_movement(uow, cmd)
        if replayed is not None:
            recorded = await uow.sales.refund_of(replayed.id)
            assert recorded is not None, "a refund's entry has no refund record"
            return Refunded(replayed, recorded)
        account = await lock_account(uow, await _refunded_customer(uow, cmd))
        refunded = await _refund_locked(uow, account, cmd, terms)
        await uow.commit()
    return refunded


async def _refunded_customer(uow: UnitOfWork, cmd: RefundSale) -> str:
    customer_id = await uow.sales.customer_of(cmd.transaction_id)
    if customer_id is None:
        raise InvalidInput(
            f"transaction {cmd.transaction_id} is not a sale that earned points",
            ("input", "transactionId"),
        )
    return customer_id


async def _refund_locked(
    uow: UnitOfWork, account: Account, cmd: RefundSale, terms: Terms
) -> Refunded:
    sale = await uow.sales.sold(cmd.transaction_id)
    assert sale is not None, "the sale vanished under its customer's lock"
    quantities = returned_quantities(sale.lines, dict(cmd.quantities))
    outcome = refund(
        sale.lines,
        quantities,
        earned=sale.points,
        redeemed=sale.points_redeemed,
        give_back_redeemed=terms.refund_returns_redeemed_points,
        money_paid=sale.money_paid,
    )
    owed_before = account.points_owed
    account, entry = account.refund(
        outcome.points_taken_back, outcome.points_given_back, cmd.movement, sale.entry_id
    )
    posted = await post_once(uow, account, entry)
    # Points given back may pay off points owed before; only a new shortfall is recorded.
    recorded = Refund(sale.id, outcome, max(0, account.points_owed - owed_before))
    await uow.sales.record_refund(posted, recorded)
    return Refunded(posted, recorded)
