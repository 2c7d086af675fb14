"""Validation of personal fields before anything is stored."""

from __future__ import annotations

import unicodedata

import phonenumbers

from leads.errors import InvalidInputError

DEFAULT_PHONE_REGION = "MY"
MAX_TEXT = {"name": 120, "company": 160, "job_title": 120, "need": 500}


def clean_text(field: str, value: str, max_length: int | None = None) -> str:
    """Return ``value`` trimmed, NFC-normalised and free of control characters.

    Raises:
        InvalidInputError: the value is empty or longer than allowed.
    """
    limit = max_length or MAX_TEXT.get(field, 500)
    cleaned = "".join(
        ch if unicodedata.category(ch)[0] != "C" else " "
        for ch in unicodedata.normalize("NFC", value)
    )
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise InvalidInputError(field, "is empty")
    if len(cleaned) > limit:
        raise InvalidInputError(field, f"is longer than {limit} characters")
    return cleaned


def normalise_phone(value: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """Parse a phone number (Malaysia by default) and return it in E.164.

    Raises:
        InvalidInputError: the number cannot be parsed or is not valid.
    """
    if len(value) > 40:
        raise InvalidInputError("phone", "is too long")
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise InvalidInputError("phone", "is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInputError("phone", "is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
