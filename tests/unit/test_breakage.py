"""Expected breakage recognised in proportion to redemptions (IFRS 15 B46): off, every
posting is the plain one; on, a redemption also recognises breakage in advance against the
contra account, an expiry releases to breakage revenue only what was not recognised in
advance, a refund takes its share back, a change of rate catches up at its moment; every
posting balanced and the contra always the one figure the journal gives."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.accounts import Account
from domain.breakage import BreakageInAdvance, MoneyPosting, Totals, checked_breakage_rate, factor
from domain.errors import InvalidInput
from domain.ledger import JournalEntry, Movement
from domain.valuation import Effective, Valuation, posting

START = datetime(2026, 11, 1, tzinfo=UTC)
ACCOUNT = Account("c-1", balance=100_000, balance_version=1, lifetime_earned=100_000)
CENT_A_POINT = Valuation(Decimal("0.01"))


def at(hours: int) -> Movement:
    return Movement("S1", "T1", None, None, START + timedelta(hours=hours))


def rated(*rates: tuple[int, str], value: str = "0.01") -> Valuation:
    """A valuation with expected breakage rates from the given hours on."""
    history = tuple(Effective(START + timedelta(hours=h), Decimal(r)) for h, r in rates)
    return Valuation(Decimal(value), breakage_rates=history)


def booked(made: MoneyPosting) -> dict[str, Decimal]:
    """Account code -> signed amount (credit positive), lines of one account added up."""
    sums: dict[str, Decimal] = {}
    for line in made.lines:
        sums[line.account.code] = sums.get(line.account.code, Decimal(0)) + line.amount
    return {code: amount for code, amount in sums.items() if amount}


def walked(valuation: Valuation, entries: Sequence[JournalEntry]) -> list[MoneyPosting]:
    books = BreakageInAdvance(valuation, START, Totals())
    made = [each for entry in entries for each in books.postings(entry)]
    return [*made, *books.changes_before(START + timedelta(days=365))]


def redeem(points: int, hours: int) -> JournalEntry:
    return ACCOUNT.redeem(points, at(hours))[1]


def expire(points: int, hours: int) -> JournalEntry:
    return ACCOUNT.expire(points, at(hours))[1]


def give_back(points: int, hours: int) -> JournalEntry:
    return ACCOUNT.refund(0, points, at(hours), reverses_entry_id=1)[1]


def every_kind() -> list[JournalEntry]:
    return [
        ACCOUNT.earn(1000, at(0))[1],
        redeem(400, 1),
        ACCOUNT.refund(80, 20, at(2), reverses_entry_id=1)[1],
        expire(150, 3),
        ACCOUNT.award(500, at(4), "spring")[1],
        ACCOUNT.adjust(-30, at(5))[1],
        ACCOUNT.reverse_award(100, at(6), "spring", reverses_entry_id=9)[1],
    ]


@pytest.mark.parametrize("valuation", [CENT_A_POINT, rated((0, "0"), (3, "0"))])
def test_without_a_rate_every_posting_is_the_plain_one(valuation: Valuation) -> None:
    entries = every_kind()

    made = walked(valuation, entries)

    assert [m.lines for m in made] == [posting(entry, CENT_A_POINT) for entry in entries]
    assert [(m.at, m.store_id) for m in made] == [
        (e.movement.occurred_at, e.movement.store_id) for e in entries
    ]


@pytest.mark.parametrize(
    ("rate", "breakage"),
    [("0.2", "1.00"), ("0.5", "4.00"), ("0.1", "0.44"), ("0.25", "1.33")],
)
def test_a_redemption_also_recognises_its_value_times_rate_over_one_less_rate(
    rate: str, breakage: str
) -> None:
    """In whole cents, rounded down (0.11111111 x 4.00 = 0.44444444: 0.44)."""
    [made] = walked(rated((0, rate)), [redeem(400, 1)])

    assert booked(made) == {
        "2400": Decimal("-4.00"),
        "4010": Decimal("4.00"),
        "2410": -Decimal(breakage),
        "4020": Decimal(breakage),
    }


def test_the_worked_example_of_the_readme() -> None:
    """20% expected to break (0.25 per unit redeemed), a point worth 0.01."""
    entries = [
        ACCOUNT.earn(1000, at(0))[1],
        redeem(400, 1),
        give_back(40, 2),
        expire(150, 3),
        redeem(200, 4),
        redeem(200, 5),
    ]

    made = walked(rated((0, "0.2"), (6, "0.1")), entries)

    assert [booked(m) for m in made] == [
        {"2400": Decimal("10.00"), "4000": Decimal("-10.00")},
        # 0.25 x 4.00 recognised in advance: 1.00 on the contra
        {"2400": Decimal("-4.00"), "4010": Decimal("4.00"), "2410": Decimal("-1.00"),
         "4020": Decimal("1.00")},
        # the refund takes back its share, 0.25 x 0.40, to sales returns: 0.90 left
        {"2400": Decimal("0.40"), "4090": Decimal("-0.50"), "2410": Decimal("0.10")},
        # of 1.50 expired, 0.90 was recognised in advance: only 0.60 is new revenue
        {"2400": Decimal("-1.50"), "2410": Decimal("0.90"), "4020": Decimal("0.60")},
        # expired (1.50) still exceeds the expected share (0.25 x 5.60): nothing in advance
        {"2400": Decimal("-2.00"), "4010": Decimal("2.00")},
        # 0.25 x 7.60 - 1.50 = 0.40 in advance
        {"2400": Decimal("-2.00"), "4010": Decimal("2.00"), "2410": Decimal("-0.40"),
         "4020": Decimal("0.40")},
        # lowered to 10%: 0.11111111 x 7.60 < 1.50, the 0.40 in advance is reversed
        {"2410": Decimal("0.40"), "4020": Decimal("-0.40")},
    ]  # fmt: skip
    assert made[-1].at == START + timedelta(hours=6)
    assert made[-1].store_id is None


def test_an_expiry_wholly_recognised_in_advance_is_no_new_revenue() -> None:
    made = walked(rated((0, "0.2")), [redeem(800, 1), expire(200, 2)])

    assert booked(made[1]) == {"2400": Decimal("-2.00"), "2410": Decimal("2.00")}


def test_a_rate_holds_from_its_moment_on_and_a_rise_catches_up_there() -> None:
    """Set at hour 2 on redemptions already made: the contra is caught up at hour 2, and a
    redemption at that very moment is under the new rate."""
    made = walked(rated((2, "0.2")), [redeem(400, 1), redeem(100, 2)])

    assert booked(made[0]) == {"2400": Decimal("-4.00"), "4010": Decimal("4.00")}
    assert (made[1].at, booked(made[1])) == (
        START + timedelta(hours=2),
        {"2410": Decimal("-1.00"), "4020": Decimal("1.00")},
    )
    assert booked(made[2])["4020"] == Decimal("0.25")


def test_a_walk_started_later_from_the_totals_so_far_books_the_same() -> None:
    """What the GL export of a later range does: start from the totals before it."""
    valuation = rated((0, "0.2"), (5, "0.3"))
    entries = [redeem(400, 1), expire(50, 2), give_back(30, 3), redeem(100, 4), expire(90, 7)]
    whole = walked(valuation, entries)
    totals = Totals()
    for entry in entries[:3]:
        totals = totals.after(entry, Decimal("0.01"))

    later = BreakageInAdvance(valuation, START + timedelta(hours=3, minutes=30), totals)
    rest = [each for entry in entries[3:] for each in later.postings(entry)]

    assert rest == whole[3:]


moves = st.lists(
    st.tuples(st.sampled_from(["redeem", "expire", "give back", "earn"]), st.integers(1, 500)),
    max_size=30,
)
rates = st.lists(
    st.tuples(st.integers(0, 40), st.sampled_from(["0", "0.1", "0.2", "0.3333", "0.5"])),
    max_size=3,
)


@given(moves, rates)
def test_every_posting_balances_and_the_contra_is_the_journals_figure_in_cents(
    steps: list[tuple[str, int]], changes: list[tuple[int, str]]
) -> None:
    make = {"redeem": redeem, "expire": expire, "give back": give_back}
    entries = [
        make[kind](points, hour) if kind in make else ACCOUNT.earn(points, at(hour))[1]
        for hour, (kind, points) in enumerate(steps)
    ]
    valuation = rated(*sorted(changes))

    made = walked(valuation, entries)

    assert all(sum(line.amount for line in m.lines) == 0 for m in made)
    contra = sum(line.amount for m in made for line in m.lines if line.account.code == "2410")
    totals = Totals()
    for entry in entries:
        totals = totals.after(entry, Decimal("0.01"))
    end = START + timedelta(days=365)
    assert -contra == totals.in_advance(factor(valuation.breakage_rate_before(end)))
    assert -contra >= 0
    contra_lines = [line.amount for m in made for line in m.lines if line.account.code == "2410"]
    assert all(amount == amount.quantize(Decimal("0.01")) for amount in contra_lines)


@pytest.mark.parametrize("rate", ["-0.1", "0.96", "1", "0.00001", "NaN"])
def test_a_breakage_rate_is_from_zero_to_ninety_five_hundredths(rate: str) -> None:
    with pytest.raises(InvalidInput, match="breakage rate"):
        checked_breakage_rate(Decimal(rate))


@pytest.mark.parametrize(("rate", "expected"), [("0.2", "0.25"), ("0.5", "1"), ("0", "0")])
def test_the_factor_is_rate_over_one_less_rate(rate: str, expected: str) -> None:
    assert checked_breakage_rate(Decimal(rate)) == Decimal(rate)
    assert factor(Decimal(rate)) == Decimal(expected)


def test_a_posting_keeps_its_place_and_store() -> None:
    entry = replace(redeem(10, 1), movement=replace(at(1), store_id="S9"))

    [made] = walked(rated((0, "0.2")), [entry])

    assert (made.at, made.store_id) == (START + timedelta(hours=1), "S9")
