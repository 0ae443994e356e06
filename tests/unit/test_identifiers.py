"""How identifiers typed at a till are normalised, so every spelling finds the same customer."""

from __future__ import annotations

import pytest

from api.customers.phones import normalise_phone
from domain.customers import (
    Identifiers,
    normalise_card_number,
    normalise_email,
    require_one_identifier,
)
from domain.errors import InvalidInput

PATH = ("input", "email")


@pytest.mark.parametrize(
    ("raw", "email"),
    [
        ("ada@example.com", "ada@example.com"),
        ("Ada@Example.COM", "ada@example.com"),
        ("  ada@example.com\t", "ada@example.com"),
        ("ada.lovelace+till@mail.example.co.uk", "ada.lovelace+till@mail.example.co.uk"),
    ],
)
def test_normalise_email_trims_and_lower_cases(raw: str, email: str) -> None:
    assert normalise_email(raw, PATH) == email


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada lovelace@example.com",
        "ada@@example.com",
        "a@b.c" + "x" * 116,
    ],
)
def test_normalise_email_refuses_what_is_not_an_email(raw: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_email(raw, ("lookup", "email"))

    assert refused.value.field == ("lookup", "email")


@pytest.mark.parametrize(
    ("raw", "card"),
    [
        ("1234567890", "1234567890"),
        ("1234 5678 9012", "123456789012"),
        ("1234-5678-9012", "123456789012"),
        (" ab12 - cd34 ", "AB12CD34"),
        ("loy-00042", "LOY00042"),
    ],
)
def test_normalise_card_number_drops_spaces_and_dashes_and_upper_cases(raw: str, card: str) -> None:
    assert normalise_card_number(raw, ("input", "cardNumber")) == card


@pytest.mark.parametrize("raw", ["", "   ", "1" * 121])
def test_normalise_card_number_refuses_blank_or_overlong(raw: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_card_number(raw, ("input", "cardNumber"))

    assert refused.value.field == ("input", "cardNumber")


@pytest.mark.parametrize(
    "identifiers",
    [
        Identifiers(external_id="POS-1"),
        Identifiers(email="ada@example.com"),
        Identifiers(phone="+442079460018"),
        Identifiers(card_number="1234"),
        Identifiers(email="ada@example.com", card_number="1234"),
    ],
)
def test_require_one_identifier_accepts_any_identifier(identifiers: Identifiers) -> None:
    require_one_identifier(identifiers, ("input",))


@pytest.mark.parametrize("identifiers", [Identifiers(), Identifiers(email="", card_number="")])
def test_require_one_identifier_refuses_none_given(identifiers: Identifiers) -> None:
    with pytest.raises(InvalidInput) as refused:
        require_one_identifier(identifiers, ("input",))

    assert refused.value.field == ("input",)


@pytest.mark.parametrize(
    ("raw", "region", "phone"),
    [
        ("+44 20 7946 0018", None, "+442079460018"),
        ("0044 20 7946 0018", None, "+442079460018"),
        ("+44 (0)20 7946 0018", None, "+442079460018"),
        ("+44-20-7946-0018", None, "+442079460018"),
        ("  +442079460018  ", None, "+442079460018"),
        ("+44 20 7946 0018", "US", "+442079460018"),
        ("020 7946 0018", "GB", "+442079460018"),
        ("(020) 7946-0018", "GB", "+442079460018"),
        ("555-0123 4567", None, "55501234567"),
        ("555 0123", None, "5550123"),
    ],
)
def test_normalise_phone_gives_one_spelling_per_number(
    raw: str, region: str | None, phone: str
) -> None:
    assert normalise_phone(raw, ("input", "phone"), region) == phone


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("", None),
        ("   ", "GB"),
        ("call me", None),
        ("call me", "GB"),
        ("+abc", None),
        ("123", None),
        ("1234567890123456", None),
        ("+44 20", None),
        ("0044", None),
        ("+999 1234 5678", None),
        ("1" * 41, None),
    ],
)
def test_normalise_phone_refuses_garbage_with_the_field_path_given(
    raw: str, region: str | None
) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_phone(raw, ("lookup", "phone"), region)

    assert refused.value.field == ("lookup", "phone")
