"""Refunds: which units come back, and the points they take back or give back, counted
cumulatively so rounding never adds up to more than the sale earned."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidInput
from domain.refunds import RefundOutcome, SoldLine, refund, returned_quantities

LINES_FIELD = ("input", "lines")


def sold(
    line_no: int, quantity: int = 1, amount: str = "10.00", points: str = "10", refunded: int = 0
) -> SoldLine:
    return SoldLine(line_no, quantity, Decimal(amount), Decimal(points), refunded)


def returned(lines: Sequence[SoldLine], quantities: Mapping[int, int]) -> list[SoldLine]:
    """The lines as they stand after `quantities` came back."""
    return [
        replace(line, refunded_quantity=line.refunded_quantity + quantities.get(line.line_no, 0))
        for line in lines
    ]


def refund_in_steps(
    lines: Sequence[SoldLine],
    steps: Sequence[Mapping[int, int] | None],
    *,
    earned: int,
    redeemed: int = 0,
) -> list[RefundOutcome]:
    outcomes = []
    current = list(lines)
    for asked in steps:
        quantities = returned_quantities(current, asked)
        outcomes.append(
            refund(current, quantities, earned=earned, redeemed=redeemed, give_back_redeemed=True)
        )
        current = returned(current, quantities)
    return outcomes


PART_REFUNDED = [sold(1, 3, refunded=1), sold(2, 2, refunded=2), sold(3)]


@pytest.mark.parametrize("asked", [None, {}], ids=["none", "empty"])
def test_returned_quantities_asking_for_nothing_returns_everything_left(
    asked: dict[int, int] | None,
) -> None:
    assert returned_quantities(PART_REFUNDED, asked) == {1: 2, 3: 1}


def test_returned_quantities_keeps_what_was_asked_when_it_is_left() -> None:
    assert returned_quantities(PART_REFUNDED, {1: 2}) == {1: 2}


@pytest.mark.parametrize(
    ("asked", "message"),
    [
        pytest.param({9: 1}, "the sale has no line 9", id="unknown line"),
        pytest.param({1: 3}, "line 1 has 2 unit(s) left to refund, not 3", id="more than left"),
        pytest.param({2: 1}, "line 2 has 0 unit(s) left to refund, not 1", id="line refunded"),
        pytest.param({1: 0}, "line 1 has 2 unit(s) left to refund, not 0", id="zero"),
        pytest.param({1: -1}, "line 1 has 2 unit(s) left to refund, not -1", id="negative"),
    ],
)
def test_returned_quantities_refuses_units_the_sale_cannot_return(
    asked: dict[int, int], message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        returned_quantities(PART_REFUNDED, asked)

    assert refused.value.field == LINES_FIELD
    assert refused.value.message == message


def test_returned_quantities_refuses_a_sale_refunded_in_full_already() -> None:
    with pytest.raises(InvalidInput) as refused:
        returned_quantities([sold(1, 2, refunded=2), sold(2, refunded=1)], None)

    assert refused.value.field == ("input",)


def take_back(lines: Sequence[SoldLine], quantities: Mapping[int, int], earned: int) -> int:
    outcome = refund(lines, quantities, earned=earned, redeemed=0, give_back_redeemed=False)
    return outcome.points_taken_back


@pytest.mark.parametrize(
    ("lines", "quantities", "earned", "taken"),
    [
        pytest.param([sold(1, points="30"), sold(2)], {2: 1}, 40, 10, id="by line points"),
        pytest.param([sold(1, points="30"), sold(2)], {1: 1}, 40, 30, id="the richer line"),
        pytest.param([sold(1, points="30"), sold(2)], {2: 1}, 60, 15, id="bonus spread with it"),
        pytest.param([sold(1, points="30"), sold(2)], {2: 1}, 35, 8, id="cap spread, rounded"),
        pytest.param([sold(1), sold(2, points="0")], {2: 1}, 10, 0, id="0-point line: nothing"),
        pytest.param(
            [sold(1, amount="30.00", points="0"), sold(2, points="0")],
            {2: 1},
            100,
            25,
            id="no line earned: shared by amount",
        ),
        pytest.param(
            [sold(1, 4, points="9.99"), sold(2, points="0.01")], {1: 2}, 10, 4, id="units"
        ),
        pytest.param([sold(1), sold(2)], {1: 1, 2: 1}, 21, 21, id="everything: all earned"),
    ],
)
def test_refund_takes_back_the_returned_share_of_the_points_rounded_down(
    lines: list[SoldLine], quantities: dict[int, int], earned: int, taken: int
) -> None:
    assert take_back(lines, quantities, earned) == taken


def test_refunding_a_unit_at_a_time_takes_back_3_3_then_4_of_10() -> None:
    outcomes = refund_in_steps([sold(1, 3)], [{1: 1}, {1: 1}, {1: 1}], earned=10)

    assert [outcome.points_taken_back for outcome in outcomes] == [3, 3, 4]


def test_a_full_refund_after_partial_ones_takes_back_exactly_what_is_left() -> None:
    lines = [sold(1, 3, points="3.3333"), sold(2, 7, points="6.6667")]

    outcomes = refund_in_steps(lines, [{1: 1}, {2: 3}, None], earned=11)

    assert [outcome.points_taken_back for outcome in outcomes] == [1, 3, 7]


@pytest.mark.parametrize(
    ("give_back", "given"), [(True, 150), (False, 0)], ids=["programme gives back", "it does not"]
)
def test_refund_gives_back_redeemed_points_by_money_share_only_when_the_programme_says_so(
    give_back: bool, given: int
) -> None:
    lines = [sold(1, amount="30.00", points="0"), sold(2, points="90")]

    outcome = refund(lines, {1: 1}, earned=90, redeemed=200, give_back_redeemed=give_back)

    assert outcome == RefundOutcome(0, given, Decimal("30.00"), {1: 1})


def test_refund_counts_the_money_of_the_units_returned() -> None:
    outcome = refund(
        [sold(1, 3, amount="7.50")], {1: 2}, earned=0, redeemed=0, give_back_redeemed=False
    )

    assert outcome.amount_refunded == Decimal("5.00")
    assert outcome.quantities == {1: 2}


sold_lines = st.lists(
    st.builds(
        SoldLine,
        line_no=st.just(0),
        quantity=st.integers(1, 5),
        amount=st.decimals(0, 1000, places=2),
        points=st.one_of(st.just(Decimal(0)), st.decimals(0, 5000, places=4)),
        refunded_quantity=st.just(0),
    ),
    min_size=1,
    max_size=5,
).map(lambda lines: [replace(line, line_no=number) for number, line in enumerate(lines, 1)])


@st.composite
def refunds_until_everything(
    draw: st.DrawFn, lines: Sequence[SoldLine]
) -> list[dict[int, int] | None]:
    """Partial refunds of random units, then one asking for everything left."""
    left = {line.line_no: line.quantity for line in lines}
    steps: list[dict[int, int] | None] = []
    for _ in range(draw(st.integers(0, 6))):
        open_lines = sorted(number for number, units in left.items() if units)
        if not open_lines:
            return steps
        chosen = draw(st.lists(st.sampled_from(open_lines), min_size=1, unique=True))
        step = {number: draw(st.integers(1, left[number])) for number in chosen}
        steps.append(step)
        left = {number: units - step.get(number, 0) for number, units in left.items()}
    return [*steps, None] if any(left.values()) else steps


@given(
    data=st.data(),
    lines=sold_lines,
    earned=st.integers(0, 100_000),
    redeemed=st.integers(0, 100_000),
)
def test_refunds_ending_in_everything_take_and_give_back_exactly_what_the_sale_had(
    data: st.DataObject, lines: list[SoldLine], earned: int, redeemed: int
) -> None:
    steps = data.draw(refunds_until_everything(lines))

    outcomes = refund_in_steps(lines, steps, earned=earned, redeemed=redeemed)

    assert all(outcome.points_taken_back >= 0 for outcome in outcomes)
    assert all(outcome.points_given_back >= 0 for outcome in outcomes)
    assert sum(outcome.points_taken_back for outcome in outcomes) == earned
    assert sum(outcome.points_given_back for outcome in outcomes) == redeemed


def test_money_given_back_is_the_returned_share_of_what_was_paid_in_money() -> None:
    # 50.00 of goods, 3.33 of it paid with points: 46.67 paid in money.
    lines = [sold(1, 2, "20.00", "18"), sold(2, 1, "30.00", "28")]
    paid = Decimal("46.67")

    loaf = refund(lines, {1: 1}, earned=46, redeemed=0, give_back_redeemed=False, money_paid=paid)
    after_loaf = [replace(lines[0], refunded_quantity=1), lines[1]]
    rest = refund(
        after_loaf, {1: 1, 2: 1}, earned=46, redeemed=0, give_back_redeemed=False, money_paid=paid
    )

    assert loaf.amount_refunded == Decimal("9.33")  # 46.67 x 10/50 = 9.334, rounded down
    assert rest.amount_refunded == Decimal("37.34")  # the rest, to the cent
    assert loaf.amount_refunded + rest.amount_refunded == paid
