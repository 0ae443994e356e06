"""The general-ledger feed: the money postings of a range of days gathered into one journal
per day and store, one line per account, each journal balanced, and written in the import
format of an accounting system.

Amounts are exact to the point value's places; a GL takes cents. Each journal's lines are
rounded to cents by the largest remainders, so the rounded lines still sum to zero (a
plain rounding of each line could leave a journal a cent out).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from domain.valuation import GlAccount, MoneyLine

CENT = Decimal("0.01")
GENERIC_HEADER = [
    "date", "entry", "account_code", "account_name", "store_id", "description", "debit",
    "credit", "currency",
]  # fmt: skip
XERO_HEADER = [
    "*Narration", "*Date", "Description", "*AccountCode", "*TaxRate", "*Amount",
    "TrackingName1", "TrackingOption1",
]  # fmt: skip
QUICKBOOKS_HEADER = [
    "Journal No.", "Journal Date", "Account Name", "Description", "Debits", "Credits",
    "Currency Code", "Location",
]  # fmt: skip


class GlFormat(StrEnum):
    GENERIC = "generic"
    XERO = "xero"
    QUICKBOOKS = "quickbooks"


@dataclass(frozen=True)
class GlLine:
    account: GlAccount
    debit: Decimal
    credit: Decimal


@dataclass(frozen=True)
class GlJournal:
    day: date
    store_id: str | None
    lines: tuple[GlLine, ...]

    @property
    def number(self) -> str:
        return f"LOY-{self.day:%Y%m%d}-{self.store_id or 'PROGRAMME'}"

    @property
    def balanced(self) -> bool:
        return sum(x.debit for x in self.lines) == sum(x.credit for x in self.lines)

    @property
    def narration(self) -> str:
        where = f"store {self.store_id}" if self.store_id else "the programme"
        return f"Loyalty points, {where}, {self.day.isoformat()}"


class GlBook:
    """Postings gathered by day, store and account, exactly."""

    def __init__(self) -> None:
        self._nets: defaultdict[tuple[date, str, GlAccount], Decimal] = defaultdict(Decimal)

    def add(self, day: date, store_id: str | None, lines: Iterable[MoneyLine]) -> None:
        for line in lines:
            self._nets[(day, store_id or "", line.account)] += line.amount

    def exact_by_account(self) -> dict[str, Decimal]:
        """Each account code's net over every journal, before rounding."""
        totals: defaultdict[str, Decimal] = defaultdict(Decimal)
        for (_, _, account), net in self._nets.items():
            totals[account.code] += net
        return dict(totals)

    def journals(self) -> list[GlJournal]:
        grouped: defaultdict[tuple[date, str], list[tuple[GlAccount, Decimal]]] = defaultdict(list)
        for (day, store, account), net in self._nets.items():
            grouped[(day, store)].append((account, net))
        return [
            GlJournal(day, store or None, _lines(nets))
            for (day, store), nets in sorted(grouped.items())
        ]


def _lines(nets: list[tuple[GlAccount, Decimal]]) -> tuple[GlLine, ...]:
    """One line per account (credits positive in, debit or credit out), in cents."""
    accounts = sorted(nets, key=lambda item: (item[0].code, item[0].role))
    cents = balanced_cents([net for _, net in accounts])
    return tuple(
        GlLine(
            account, max(-amount, Decimal(0)).quantize(CENT), max(amount, Decimal(0)).quantize(CENT)
        )
        for (account, _), amount in zip(accounts, cents, strict=True)
        if amount
    )


def balanced_cents(amounts: list[Decimal]) -> list[Decimal]:
    """Each amount in cents, rounded down, then the cents the sum lacks added to those that
    lost the most (largest remainders): the result sums to the original sum in cents."""
    floors = [amount.quantize(CENT, rounding=ROUND_FLOOR) for amount in amounts]
    missing = int(
        ((sum(amounts, Decimal(0)) - sum(floors, Decimal(0))) / CENT).quantize(Decimal(1))
    )
    by_remainder = sorted(range(len(amounts)), key=lambda i: amounts[i] - floors[i], reverse=True)
    for index in by_remainder[:missing]:
        floors[index] += CENT
    return floors


def rows(
    journals: Iterable[GlJournal], kind: GlFormat, currency: str, tax_rate: str
) -> list[list[str]]:
    """The file's rows, header first."""
    if kind is GlFormat.XERO:
        return [XERO_HEADER, *(_xero(j, line, tax_rate) for j in journals for line in j.lines)]
    if kind is GlFormat.QUICKBOOKS:
        return [
            QUICKBOOKS_HEADER,
            *(_quickbooks(j, line, currency) for j in journals for line in j.lines),
        ]
    return [GENERIC_HEADER, *(_generic(j, line, currency) for j in journals for line in j.lines)]


def _generic(journal: GlJournal, line: GlLine, currency: str) -> list[str]:
    return [
        journal.day.isoformat(),
        journal.number,
        line.account.code,
        line.account.name,
        journal.store_id or "",
        journal.narration,
        str(line.debit),
        str(line.credit),
        currency,
    ]


def _xero(journal: GlJournal, line: GlLine, tax_rate: str) -> list[str]:
    """Xero: a positive amount is a debit, a negative one a credit; dd/mm/yyyy; the store as
    a tracking option."""
    return [
        f"{journal.number} {journal.narration}",
        f"{journal.day:%d/%m/%Y}",
        line.account.name,
        line.account.code,
        tax_rate,
        str(line.debit - line.credit),
        "Store" if journal.store_id else "",
        journal.store_id or "",
    ]


def _quickbooks(journal: GlJournal, line: GlLine, currency: str) -> list[str]:
    """QuickBooks Online: accounts by name, the empty side left blank, MM/DD/YYYY."""
    return [
        journal.number,
        f"{journal.day:%m/%d/%Y}",
        line.account.name,
        journal.narration,
        str(line.debit) if line.debit else "",
        str(line.credit) if line.credit else "",
        currency,
        journal.store_id or "",
    ]


def beyond_rounding(journals: list[GlJournal], exact: dict[str, Decimal]) -> Decimal:
    """How far the journals' accounts are from their exact nets beyond the cent each of
    their lines may have been rounded by (0 when the export is the movements)."""
    exported = exported_by_account(journals)
    lines_of = Counter(line.account.code for journal in journals for line in journal.lines)
    return sum(
        (
            max(Decimal(0), abs(exported.get(code, Decimal(0)) - net) - CENT * lines_of[code])
            for code, net in exact.items()
        ),
        Decimal(0),
    )


def exported_by_account(journals: Iterable[GlJournal]) -> dict[str, Decimal]:
    """Each account code's net (credits positive) as the export's rounded lines say."""
    totals: defaultdict[str, Decimal] = defaultdict(Decimal)
    for journal in journals:
        for line in journal.lines:
            totals[line.account.code] += line.credit - line.debit
    return dict(totals)
