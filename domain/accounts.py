"""A customer's points account: the balance and the rules that move it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from domain.errors import InsufficientPoints, InvalidInput
from domain.ledger import (
    ADJUSTMENTS,
    POINTS_ISSUED,
    POINTS_REDEEMED,
    JournalEntry,
    JournalLine,
    Movement,
    TransactionKind,
    promotions_account,
    transfer,
)


@dataclass(frozen=True)
class Account:
    customer_id: str
    balance: int
    balance_version: int
    lifetime_earned: int

    def earn(self, points: int, movement: Movement) -> tuple[Account, JournalEntry]:
        return self._credit(TransactionKind.EARN, points, movement, POINTS_ISSUED)

    def award(
        self, points: int, movement: Movement, campaign_id: str | None
    ) -> tuple[Account, JournalEntry]:
        """Promotional points, paid for by the campaign's promotional-expense account."""
        return self._credit(
            TransactionKind.BULK_AWARD, points, movement, promotions_account(campaign_id)
        )

    def adjust(self, points: int, movement: Movement) -> tuple[Account, JournalEntry]:
        """A manual correction, up or down; it never takes the balance below zero."""
        if points == 0:
            raise InvalidInput("an adjustment must move at least one point", ("input", "points"))
        if -points > self.balance:
            raise InsufficientPoints(
                f"the customer has {self.balance} points, {-points} cannot be removed",
                ("input", "points"),
            )
        changed = self._moved(points)
        lines = transfer(self.customer_id, points, ADJUSTMENTS)
        return changed, changed._entry(TransactionKind.ADJUST, points, movement, lines)

    def _credit(
        self, kind: TransactionKind, points: int, movement: Movement, counter_account: str
    ) -> tuple[Account, JournalEntry]:
        if points < 0:
            raise InvalidInput("points credited cannot be negative")
        changed = self._moved(points)
        changed = replace(changed, lifetime_earned=self.lifetime_earned + points)
        lines = transfer(self.customer_id, points, counter_account)
        return changed, changed._entry(kind, points, movement, lines)

    def redeem(
        self, points: int, movement: Movement, reward_id: str | None = None
    ) -> tuple[Account, JournalEntry]:
        if points <= 0:
            raise InvalidInput("points to redeem must be positive", ("input", "points"))
        if points > self.balance:
            raise InsufficientPoints(
                f"the customer has {self.balance} points, {points} were asked for",
                ("input", "points"),
            )
        changed = self._moved(-points)
        lines = transfer(self.customer_id, -points, POINTS_REDEEMED)
        entry = changed._entry(TransactionKind.REDEEM, -points, movement, lines, reward_id)
        return changed, entry

    def _moved(self, delta: int) -> Account:
        """The balance changes by `delta`; its version goes up only when it really changes."""
        if delta == 0:
            return self
        return replace(self, balance=self.balance + delta, balance_version=self.balance_version + 1)

    def _entry(
        self,
        kind: TransactionKind,
        points: int,
        movement: Movement,
        lines: tuple[JournalLine, ...],
        reward_id: str | None = None,
    ) -> JournalEntry:
        return JournalEntry(
            kind=kind,
            customer_id=self.customer_id,
            points=points,
            balance_after=self.balance,
            balance_version=self.balance_version,
            movement=movement,
            lines=lines,
            reward_id=reward_id,
        )
