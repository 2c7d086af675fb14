"""Detect and remove sensitive numbers from visitor messages.

Standard library only: the Rasa server (Python 3.10), the action server and
the console gateway (Python 3.11) all import this module.

Detected kinds, each replaced by a bracketed placeholder:

* ``card``: 13 to 19 digits, optionally grouped by single spaces or dashes,
  that pass the Luhn check.
* ``mykad``: a Malaysian identity card number ``YYMMDD-PB-NNNN`` (dashes or
  spaces optional) whose first six digits are a real date and whose place
  of birth code ``PB`` is one the National Registration Department issues.
* ``passport``: a Malaysian passport number (``A``, ``H`` or ``K`` and eight
  digits) anywhere; other formats (one or two letters and six to eight
  digits, or nine digits) only when the message mentions a passport.
* ``bank_account``: an IBAN anywhere; 8 to 20 digits (spaces or dashes
  allowed) only when the message mentions a bank account.

Limits: detection is pattern-based. A bank account or foreign passport
number typed with no context word is indistinguishable from an order or
phone number and is not removed; a number split over several messages is
not recognised.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

PLACEHOLDERS: Mapping[str, str] = {
    "card": "[card number removed]",
    "mykad": "[MyKad number removed]",
    "passport": "[passport number removed]",
    "bank_account": "[bank account number removed]",
}
PLACEHOLDER_PATTERN = re.compile(
    r"\[(?:card|MyKad|passport|bank account) number removed\]"
)

_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])")
_MYKAD = re.compile(r"(?<!\d)(\d{6})[ -]?(\d{2})[ -]?(\d{4})(?!\d)")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_MY_PASSPORT = re.compile(r"\b[AHKahk]\d{8}\b")
_OTHER_PASSPORT = re.compile(r"\b(?:[A-Za-z]{1,2}\d{6,8}|\d{9})\b")
_BANK_DIGITS = re.compile(r"(?<![\d-])\d(?:[ -]?\d){7,19}(?!\d)")
_PASSPORT_CONTEXT = re.compile(r"passport|pasport|paspot", re.IGNORECASE)
_BANK_CONTEXT = re.compile(
    r"\b(?:bank|account|acct|acc|a/c|akaun|iban|swift|transfer|maybank|cimb|"
    r"rhb|hong leong|ambank|public bank|bsn|affin|alliance|bank islam)\b",
    re.IGNORECASE,
)

# Place-of-birth codes issued on MyKad numbers (states and foreign codes).
_PLACE_CODES = frozenset(
    [*range(1, 17), *range(21, 69), 71, 72, *range(74, 80), *range(82, 94), 98, 99]
)


@dataclass(frozen=True)
class Redaction:
    """The result of :func:`redact`.

    Attributes:
        text: the message with every detected number replaced.
        kinds: the kinds removed, each once, in order of first appearance.
    """

    text: str
    kinds: tuple[str, ...]

    @property
    def changed(self) -> bool:
        """Whether anything was removed."""
        return bool(self.kinds)


def luhn_valid(digits: str) -> bool:
    """Return whether a string of digits passes the Luhn check."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _is_card(match: re.Match[str]) -> bool:
    digits = _digits(match.group(0))
    return 13 <= len(digits) <= 19 and luhn_valid(digits) and len(set(digits)) > 1


def _valid_birth_date(yymmdd: str) -> bool:
    year, month, day = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    for century in (1900, 2000):
        try:
            dt.date(century + year, month, day)
        except ValueError:
            continue
        return True
    return False


def _is_mykad(match: re.Match[str]) -> bool:
    return _valid_birth_date(match.group(1)) and int(match.group(2)) in _PLACE_CODES


def _is_bank_account(match: re.Match[str]) -> bool:
    return 8 <= len(_digits(match.group(0))) <= 20


def _always(_match: re.Match[str]) -> bool:
    return True


_Rule = tuple[
    str, re.Pattern[str], Callable[[re.Match[str]], bool], re.Pattern[str] | None
]

_RULES: tuple[_Rule, ...] = (
    ("card", _CARD, _is_card, None),
    ("mykad", _MYKAD, _is_mykad, None),
    ("bank_account", _IBAN, _always, None),
    ("passport", _MY_PASSPORT, _always, None),
    ("passport", _OTHER_PASSPORT, _always, _PASSPORT_CONTEXT),
    ("bank_account", _BANK_DIGITS, _is_bank_account, _BANK_CONTEXT),
)


def redact(text: str) -> Redaction:
    """Replace every sensitive number in ``text`` with a placeholder.

    Rules run in a fixed order (cards, MyKad, IBAN, passports, bank
    accounts); text already replaced is not matched again. Email addresses,
    names and phone numbers are left alone.

    Returns:
        The redacted text and the kinds found. ``text`` unchanged and no
        kinds when nothing matched.
    """
    kinds: list[str] = []
    for kind, pattern, accept, context in _RULES:
        if context is not None and not context.search(text):
            continue

        def replace(
            match: re.Match[str], kind: str = kind, accept: Any = accept
        ) -> str:
            if not accept(match):
                return match.group(0)
            if kind not in kinds:
                kinds.append(kind)
            return PLACEHOLDERS[kind]

        text = pattern.sub(replace, text)
    return Redaction(text, tuple(kinds))


# Every kind above has at least six digits close together: cheaper to test
# first than running every rule on every string.
_SIX_DIGITS = re.compile(r"\d(?:\D{0,3}\d){5}")
# Keys of Rasa events that only ever hold names, ids or numbers.
_STRUCTURAL_KEYS = frozenset(
    {
        "event",
        "timestamp",
        "message_id",
        "name",
        "policy",
        "confidence",
        "input_channel",
        "extractor",
        "entity",
        "start",
        "end",
        "processor",
        "model_id",
        "assistant_id",
    }
)


def scrub(value: Any) -> Any:
    """Redact every string inside a JSON-like value (dicts, lists, strings).

    Used by the tracker store before encryption, as a second line of defence
    behind the input channel. Keys are kept as they are; values under keys
    that Rasa uses only for names, ids and numbers (``event``, ``name``,
    ``message_id``, ``timestamp``...) are not inspected.
    """
    if isinstance(value, str):
        return redact(value).text if _SIX_DIGITS.search(value) else value
    if isinstance(value, dict):
        return {
            key: item if key in _STRUCTURAL_KEYS else scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [scrub(item) for item in value]
    return value


def describe(kinds: tuple[str, ...] | list[str]) -> str:
    """Return a short English phrase naming the kinds removed."""
    names = {
        "card": "a payment card number",
        "mykad": "a MyKad number",
        "passport": "a passport number",
        "bank_account": "a bank account number",
    }
    parts = [names[k] for k in kinds if k in names]
    if not parts:
        return "a sensitive number"
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]
