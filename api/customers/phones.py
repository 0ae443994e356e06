"""Identifier normalisation that needs a library: phone numbers."""

from __future__ import annotations

import phonenumbers

from domain.errors import FieldPath, InvalidInput


def normalise_phone(raw: str, field_path: FieldPath, default_region: str | None) -> str:
    """E.164 ("+442079460018") when the number has a country code or a default region is
    set; otherwise the digits alone, so a number typed with spaces or dashes still matches."""
    text = raw.strip()
    if not text or len(text) > 40:
        raise InvalidInput("phone must be 1 to 40 characters", field_path)
    if text.startswith("00"):
        text = "+" + text[2:]
    if text.startswith("+") or default_region:
        return _e164(text, field_path, default_region)
    digits = "".join(character for character in text if character.isdigit())
    if not 4 <= len(digits) <= 15:
        raise InvalidInput(f"{raw.strip()!r} is not a phone number", field_path)
    return digits


def _e164(text: str, field_path: FieldPath, region: str | None) -> str:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput(f"{text!r} is not a phone number", field_path) from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidInput(f"{text!r} is not a possible phone number", field_path)
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
