"""Points in money: each movement's posting by the default chart (a worked example per
kind), point values and accounts from a moment on, journals per day and store rounded to
cents and still balanced, and the three file formats."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from domain.accounts import Account
from domain.errors import InvalidInput
from domain.gl_export import (
    GENERIC_HEADER,
    QUICKBOOKS_HEADER,
    XERO_HEADER,
    GlBook,
    GlFormat,
    GlJournal,
    balanced_cents,
    beyond_rounding,
    rows,
)
from domain.ledger import Actor, JournalEntry, Movement
from domain.reconciliation import export_matches
from domain.valuation import (
    DEFAULT_CHART,
    Effective,
    GlAccount,
    GlRole,
    MoneyLine,
    Valuation,
    checked_point_value,
    posting,
)

AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
MOVEMENT = Movement("S1", "T1", "R-1", "k", AT)
ACCOUNT = Account("c-1", balance=300, balance_version=3, lifetime_earned=300)
CENT_A_POINT = Valuation(Decimal("0.01"))


def booked(entry: JournalEntry, valuation: Valuation = CENT_A_POINT) -> dict[str, Decimal]:
    """Account code -> signed amount (credit positive), lines of one account added up."""
    sums: dict[str, Decimal] = {}
    for line in posting(entry, valuation):
        sums[line.account.code] = sums.get(line.account.code, Decimal(0)) + line.amount
    return sums


def test_an_earn_defers_sales_revenue_into_the_liability() -> None:
    _, entry = ACCOUNT.earn(250, MOVEMENT)

    assert booked(entry) == {"2400": Decimal("2.50"), "4000": Decimal("-2.50")}


def test_a_redemption_releases_the_liability_to_redemption_revenue() -> None:
    _, entry = ACCOUNT.redeem(100, MOVEMENT)

    assert booked(entry) == {"2400": Decimal("-1.00"), "4010": Decimal("1.00")}


def test_an_expiry_releases_the_liability_to_breakage() -> None:
    _, entry = ACCOUNT.expire(40, MOVEMENT)

    assert booked(entry) == {"2400": Decimal("-0.40"), "4020": Decimal("0.40")}


def test_a_campaign_award_is_marketing_expense_against_the_liability() -> None:
    _, entry = ACCOUNT.award(500, MOVEMENT, "spring")

    assert booked(entry) == {"2400": Decimal("5.00"), "6100": Decimal("-5.00")}


def test_an_adjustment_is_booked_against_the_adjustments_account() -> None:
    _, entry = ACCOUNT.adjust(-30, MOVEMENT)

    assert booked(entry) == {"2400": Decimal("-0.30"), "6110": Decimal("0.30")}


def test_a_refund_books_what_it_takes_and_gives_back_to_sales_returns() -> None:
    """It takes back 80 earned points and gives back 20 spent ones: the liability falls by
    60, sales returns take the rest."""
    _, entry = ACCOUNT.refund(80, 20, MOVEMENT, reverses_entry_id=7)

    assert booked(entry) == {"2400": Decimal("-0.60"), "4090": Decimal("0.60")}


def test_a_reversed_award_goes_back_to_its_campaign() -> None:
    _, entry = ACCOUNT.reverse_award(100, MOVEMENT, "spring", reverses_entry_id=9)

    assert booked(entry) == {"2400": Decimal("-1.00"), "6100": Decimal("1.00")}


def test_point_values_and_accounts_hold_from_their_moment_on() -> None:
    liability = GlAccount(GlRole.LIABILITY, "21500", "Deferred revenue - loyalty")
    valuation = Valuation(
        Decimal("0.01"),
        (Effective(AT, Decimal("0.0125")),),
        (Effective(AT + timedelta(days=1), liability),),
    )
    before = replace_time(ACCOUNT.earn(100, MOVEMENT)[1], AT - timedelta(seconds=1))
    at = ACCOUNT.earn(100, MOVEMENT)[1]
    later = replace_time(at, AT + timedelta(days=2))

    assert booked(before, valuation) == {"2400": Decimal("1.00"), "4000": Decimal("-1.00")}
    assert booked(at, valuation) == {"2400": Decimal("1.25"), "4000": Decimal("-1.25")}
    assert booked(later, valuation) == {"21500": Decimal("1.25"), "4000": Decimal("-1.25")}


def replace_time(entry: JournalEntry, when: datetime) -> JournalEntry:
    from dataclasses import replace  # noqa: PLC0415

    return replace(entry, movement=replace(entry.movement, occurred_at=when))


@pytest.mark.parametrize("value", ["0", "-0.01", "0.00001", "1001", "NaN"])
def test_a_point_value_must_be_positive_with_four_places_at_most(value: str) -> None:
    with pytest.raises(InvalidInput, match="point value"):
        checked_point_value(Decimal(value))


@pytest.mark.parametrize(
    "amounts",
    [
        ["0.3333", "0.3333", "-0.6666"],
        ["1.005", "-1.005"],
        ["0.125", "0.125", "-0.25"],
        ["0.0049", "0.0049", "0.0049", "-0.0147"],
        ["12.3456", "-2.0001", "-10.3455"],
    ],
)
def test_cents_by_largest_remainders_keep_a_journal_balanced(amounts: list[str]) -> None:
    exact = [Decimal(a) for a in amounts]

    cents = balanced_cents(exact)

    assert sum(cents) == 0
    assert all(abs(c - e) < Decimal("0.01") for c, e in zip(cents, exact, strict=True))
    assert all(c == c.quantize(Decimal("0.01")) for c in cents)


def gathered() -> list[GlJournal]:
    book = GlBook()
    liability, revenue = DEFAULT_CHART[GlRole.LIABILITY], DEFAULT_CHART[GlRole.DEFERRED_REVENUE]
    redeemed = DEFAULT_CHART[GlRole.REDEMPTION_REVENUE]
    for store, points in (("S1", 125), ("S1", 75), ("S2", 10), (None, 5)):
        value = Decimal("0.0133") * points
        book.add(
            date(2026, 11, 20), store, [MoneyLine(liability, value), MoneyLine(revenue, -value)]
        )
    book.add(
        date(2026, 11, 20),
        "S1",
        [MoneyLine(liability, Decimal("-0.5")), MoneyLine(redeemed, Decimal("0.5"))],
    )
    return list(book.journals())


def test_one_journal_per_day_and_store_one_line_per_account_each_balanced() -> None:
    journals = gathered()

    assert [(j.number, len(j.lines)) for j in journals] == [
        ("LOY-20261120-PROGRAMME", 2),
        ("LOY-20261120-S1", 3),
        ("LOY-20261120-S2", 2),
    ]
    for journal in journals:
        lines = journal.lines
        assert sum(line.debit for line in lines) == sum(line.credit for line in lines)
        assert all(
            min(line.debit, line.credit) == 0 <= max(line.debit, line.credit) for line in lines
        )
    s1 = {line.account.code: (line.debit, line.credit) for line in journals[1].lines}
    assert s1 == {
        "2400": (Decimal("0.00"), Decimal("2.16")),
        "4000": (Decimal("2.66"), Decimal("0.00")),
        "4010": (Decimal("0.00"), Decimal("0.50")),
    }


def test_each_format_has_its_header_and_balances_per_journal() -> None:
    journals = gathered()

    generic, xero, quickbooks = (rows(journals, kind, "EUR", "Tax Exempt") for kind in GlFormat)

    assert generic[0] == GENERIC_HEADER
    assert ",".join(GENERIC_HEADER) == (
        "date,entry,account_code,account_name,store_id,description,debit,credit,currency"
    )
    assert generic[1][0] == "2026-11-20"
    assert generic[1][-1] == "EUR"
    assert xero[0] == XERO_HEADER
    assert quickbooks[0] == QUICKBOOKS_HEADER
    for narration in {row[0] for row in xero[1:]}:
        assert sum(Decimal(row[5]) for row in xero[1:] if row[0] == narration) == 0
    assert {row[1] for row in xero[1:]} == {"20/11/2026"}
    for number in {row[0] for row in quickbooks[1:]}:
        mine = [row for row in quickbooks[1:] if row[0] == number]
        assert sum(Decimal(r[4] or 0) for r in mine) == sum(Decimal(r[5] or 0) for r in mine)
    assert {row[1] for row in quickbooks[1:]} == {"11/20/2026"}


ADMIN = Actor("admin-1", "admin", None)


def test_an_export_matches_its_movements_within_the_cents_of_its_lines() -> None:
    book = GlBook()
    liability, revenue = DEFAULT_CHART[GlRole.LIABILITY], DEFAULT_CHART[GlRole.DEFERRED_REVENUE]
    for points in (1, 2, 3):
        value = Decimal("0.0133") * points
        book.add(
            date(2026, 11, 20), "S1", [MoneyLine(liability, value), MoneyLine(revenue, -value)]
        )
    journals = book.journals()

    assert beyond_rounding(journals, book.exact_by_account()) == 0
    assert export_matches(len(journals), 0, Decimal(0), Decimal("0.01")).holds
    off = {code: net + Decimal("0.05") for code, net in book.exact_by_account().items()}
    assert beyond_rounding(journals, off) == Decimal("0.08")
    failed = export_matches(len(journals), 1, Decimal("0.08"), Decimal("0.01"))
    assert (failed.holds, failed.difference) == (False, 9)
