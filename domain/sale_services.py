"""Use cases of a sale: earn on it, preview it, check it out in one call, refund it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from domain.accounts import Account
from domain.commands import Checkout, EarnPoints, PreviewEarn, RefundSale
from domain.errors import InsufficientPoints, InvalidInput
from domain.ledger import PostedEntry
from domain.points import allocate_discount, sale_total
from domain.ports import UnitOfWork
from domain.refunds import refund, returned_quantities
from domain.rewards import (
    Redemption,
    Reward,
    RewardsOutlook,
    points_off,
    redemption_against_sale,
    rewards_outlook,
)
from domain.rules import EarnCalculation, Sale, calculate, capped_daily, rules_in_force
from domain.sales import RecordedSale, Refund
from domain.services import (
    PointsResult,
    Terms,
    current_account,
    find_reward,
    lock_account,
    post,
    post_once,
    record_redemption,
    replay,
    require_store,
    voucher_code,
)


@dataclass(frozen=True)
class EarnPreview:
    calculation: EarnCalculation
    projected_balance: int | None
    outlook: RewardsOutlook

    @property
    def points(self) -> int:
        return self.calculation.points


@dataclass(frozen=True)
class CheckoutResult:
    earned: PointsResult
    redeemed: PostedEntry | None
    amount_due: Decimal


@dataclass(frozen=True)
class RefundResult:
    reversal: PointsResult
    refund: Refund


def amount_due(cmd: Checkout, redemption: Redemption | None) -> Decimal:
    """What the customer pays in money: the sale's total less what points took off."""
    off = Decimal(0) if redemption is None else redemption.discount_amount or Decimal(0)
    return max(Decimal(0), sale_total(cmd.lines) - off)


async def calculate_sale(
    uow: UnitOfWork, sale: Sale, customer_id: str | None, terms: Terms
) -> EarnCalculation:
    """The one computation of a sale's points, with the customer's usage of daily caps."""
    in_force = rules_in_force(await uow.rules.current(), sale)
    used_today: dict[str, Decimal] = {}
    windows = {rule.id: rule.schedule.day_of(sale.at) for rule in capped_daily(in_force)}
    if customer_id is not None and windows:
        used_today = dict(await uow.rules.used_today(customer_id, windows))
    return calculate(in_force, sale, terms.base_rate, used_today)


async def earn_points(uow: UnitOfWork, cmd: EarnPoints, terms: Terms) -> PointsResult:
    async with uow:
        previous = await uow.idempotency.claim(cmd.idempotency_key, cmd.fingerprint())
        if previous is not None:
            return await replay(uow, previous, cmd.fingerprint())
        await require_store(uow, cmd.store_id)
        account = await lock_account(uow, cmd.customer_id)
        sale = Sale.of(cmd.store_id, cmd.occurred_at, cmd.lines)
        calculation = await calculate_sale(uow, sale, cmd.customer_id, terms)
        account, entry = account.earn(calculation.points, cmd.movement)
        posted = await post_once(uow, account, entry)
        await uow.sales.record(_recorded(cmd, posted, calculation))
        await uow.commit()
    return PointsResult(posted, account)


def _recorded(
    cmd: EarnPoints | Checkout,
    earned: PostedEntry,
    calculation: EarnCalculation,
    discount: Decimal = Decimal(0),
    redeemed: PostedEntry | None = None,
) -> RecordedSale:
    return RecordedSale(
        earned=earned,
        customer_id=cmd.customer_id,
        store_id=cmd.store_id,
        terminal_id=cmd.terminal_id,
        sale_ref=cmd.sale_id,
        occurred_at=cmd.occurred_at,
        lines=cmd.lines,
        calculation=calculation,
        discount=discount,
        redeemed=redeemed,
    )


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


async def checkout(uow: UnitOfWork, cmd: Checkout, terms: Terms) -> CheckoutResult:
    """Spend (a reward or points) and earn on one sale, in one transaction, once."""
    async with uow:
        previous = await uow.idempotency.claim(cmd.idempotency_key, cmd.fingerprint())
        if previous is not None:
            earned = await replay(uow, previous, cmd.fingerprint())
            return await _replay_checkout(uow, cmd, earned)
        await require_store(uow, cmd.store_id)
        account = await lock_account(uow, cmd.customer_id)
        try:
            account, redeemed, redemption = await _spend(uow, account, cmd, terms)
        except InsufficientPoints as refused:
            await uow.idempotency.refuse(cmd.idempotency_key, refused)
            await uow.commit()
            raise
        discount = Decimal(0) if redemption is None else redemption.discount_amount or Decimal(0)
        amounts = None if terms.earn_on_points_paid else allocate_discount(cmd.lines, discount)
        sale = Sale.of(cmd.store_id, cmd.occurred_at, cmd.lines, amounts)
        calculation = await calculate_sale(uow, sale, cmd.customer_id, terms)
        account, entry = account.earn(calculation.points, cmd.movement)
        posted = await post_once(uow, account, entry)
        await uow.sales.record(_recorded(cmd, posted, calculation, discount, redeemed))
        await uow.commit()
    due = amount_due(cmd, redemption)
    return CheckoutResult(PointsResult(posted, account, redemption), redeemed, due)


async def _replay_checkout(uow: UnitOfWork, cmd: Checkout, earned: PointsResult) -> CheckoutResult:
    redeemed = await uow.sales.redeem_entry_of(earned.posted.id)
    redemption = None if redeemed is None else await uow.redemptions.get(redeemed.id)
    due = amount_due(cmd, redemption)
    return CheckoutResult(replace(earned, redemption=redemption), redeemed, due)


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
        if (redemption.discount_amount or 0) > sale_total(cmd.lines):
            raise InvalidInput("the points are worth more than the sale", ("input", "points"))
    else:
        return account, None, None
    account, entry = account.redeem(points, cmd.movement, cmd.reward_id)
    redeemed = await post(uow, account, entry)
    await record_redemption(uow, redeemed, redemption, reward)
    return account, redeemed, redemption


async def refund_sale(uow: UnitOfWork, cmd: RefundSale, terms: Terms) -> RefundResult:
    """Take back the points a returned part of a sale earned, and give back points spent on
    it, as one REVERSAL entry pointing at the sale's transaction."""
    async with uow:
        previous = await uow.idempotency.claim(cmd.idempotency_key, cmd.fingerprint())
        if previous is not None:
            reversal = await replay(uow, previous, cmd.fingerprint())
            recorded = await uow.sales.refund_of(reversal.posted.id)
            assert recorded is not None, "a refund's entry has no refund record"
            return RefundResult(reversal, recorded)
        await require_store(uow, cmd.store_id)
        customer_id = await uow.sales.customer_of(cmd.transaction_id)
        if customer_id is None:
            raise InvalidInput(
                f"transaction {cmd.transaction_id} is not a sale that earned points",
                ("input", "transactionId"),
            )
        account = await lock_account(uow, customer_id)
        result = await _refund_locked(uow, account, cmd, terms)
        await uow.commit()
    return result


async def _refund_locked(
    uow: UnitOfWork, account: Account, cmd: RefundSale, terms: Terms
) -> RefundResult:
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
    return RefundResult(PointsResult(posted, account), recorded)
