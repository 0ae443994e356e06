"""A customer's points account: the balance and the rules that move it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from domain.errors import InsufficientPoints, InvalidInput
from domain.ledger import (
    ADJUSTMENTS,
    BREAKAGE,
    GENESIS,
    POINTS_ISSUED,
    POINTS_REDEEMED,
    JournalEntry,
    JournalLine,
    Movement,
    TransactionKind,
    chained_hash,
    customer_account,
    owed_account,
    promotions_account,
    transfer,
)


@dataclass(frozen=True)
class Account:
    customer_id: str
    balance: int
    balance_version: int
    lifetime_earned: int
    points_owed: int = 0
    # The hash of the account's last journal entry (domain.ledger.chained_hash).
    journal_head: str = GENESIS

    def balance_after_credit(self, points: int) -> int:
        """The balance once `points` are credited (points owed are paid off first)."""
        return self.balance + points - min(points, self.points_owed)

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
        return changed._sealed(changed._entry(TransactionKind.ADJUST, points, movement, lines))

    def _credit(
        self, kind: TransactionKind, points: int, movement: Movement, counter_account: str
    ) -> tuple[Account, JournalEntry]:
        """New points pay off points owed from refunds first; the rest reaches the balance."""
        if points < 0:
            raise InvalidInput("points credited cannot be negative")
        paid_off = min(points, self.points_owed)
        changed = replace(
            self._moved(points - paid_off),
            lifetime_earned=self.lifetime_earned + points,
            points_owed=self.points_owed - paid_off,
        )
        lines = transfer(self.customer_id, points - paid_off, counter_account, points)
        if paid_off:
            lines += (JournalLine(owed_account(self.customer_id), paid_off),)
        return changed._sealed(changed._entry(kind, points - paid_off, movement, lines))

    def refund(
        self, taken_back: int, given_back: int, movement: Movement, reverses_entry_id: int
    ) -> tuple[Account, JournalEntry]:
        """A refund takes back earned points and gives back spent ones, in one REVERSAL entry.

        Points already spent cannot be taken from the balance: the balance goes to zero and
        the shortfall is owed. Points owed are paid off by the customer's next credits, points
        given back by a refund included (never lost, never counted twice).
        """
        return self._reversal(taken_back, given_back, movement, reverses_entry_id, POINTS_ISSUED)

    def reverse_award(
        self, points: int, movement: Movement, campaign_id: str | None, reverses_entry_id: int
    ) -> tuple[Account, JournalEntry]:
        """Take back a bulk award, to its campaign's account; spent points become owed."""
        return self._reversal(
            points, 0, movement, reverses_entry_id, promotions_account(campaign_id)
        )

    def _reversal(
        self,
        taken_back: int,
        given_back: int,
        movement: Movement,
        reverses_entry_id: int,
        taken_to: str,
    ) -> tuple[Account, JournalEntry]:
        due = taken_back - given_back
        shortfall = max(0, due - self.balance)
        paid_off = min(max(0, -due), self.points_owed)
        delta = -(due - shortfall) - paid_off
        changed = replace(
            self._moved(delta),
            lifetime_earned=max(0, self.lifetime_earned - taken_back),
            points_owed=self.points_owed + shortfall - paid_off,
        )
        lines = tuple(
            JournalLine(account, amount)
            for account, amount in (
                (customer_account(self.customer_id), delta),
                (taken_to, taken_back),
                (POINTS_REDEEMED, -given_back),
                (owed_account(self.customer_id), paid_off - shortfall),
            )
            if amount
        )
        entry = changed._entry(TransactionKind.REVERSAL, delta, movement, lines)
        return changed._sealed(replace(entry, reverses_entry_id=reverses_entry_id))

    def expire(self, points: int, movement: Movement) -> tuple[Account, JournalEntry]:
        """Points that expired unspent leave the balance for the breakage account."""
        points = min(points, self.balance)
        changed = self._moved(-points)
        lines = transfer(self.customer_id, -points, BREAKAGE)
        return changed._sealed(changed._entry(TransactionKind.EXPIRE, -points, movement, lines))

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
        return changed._sealed(
            changed._entry(TransactionKind.REDEEM, -points, movement, lines, reward_id)
        )

    def _moved(self, delta: int) -> Account:
        """The balance changes by `delta`; its version goes up only when it really changes."""
        if delta == 0:
            return self
        return replace(self, balance=self.balance + delta, balance_version=self.balance_version + 1)

    def _sealed(self, entry: JournalEntry) -> tuple[Account, JournalEntry]:
        """The entry chained to the account's last one, which it then is."""
        chained = chained_hash(self.journal_head, entry)
        return replace(self, journal_head=chained), replace(entry, hash=chained)

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
