"""bot.redaction: sensitive numbers out, everything else untouched."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.redaction import PLACEHOLDERS, describe, luhn_valid, redact, scrub


def _luhn_complete(prefix: str) -> str:
    for last in "0123456789":
        if luhn_valid(prefix + last):
            return prefix + last
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("my card is 4111 1111 1111 1111 thanks", "card"),
        ("4111-1111-1111-1111", "card"),
        ("5500005555555559", "card"),
        ("amex 3782 822463 10005", "card"),
        ("IC 900101-14-5678", "mykad"),
        ("900101145678", "mykad"),
        ("my mykad 840229 10 1234", "mykad"),
        ("passport A12345678", "passport"),
        ("my passport no is E1234567", "passport"),
        ("bank account 5140 1234 5678", "bank_account"),
        ("maybank acc 514012345678 please", "bank_account"),
        ("IBAN GB82 WEST 1234 5698 7654 32", "bank_account"),
    ],
)
def test_sensitive_numbers_are_replaced(text: str, kind: str) -> None:
    result = redact(text)
    assert result.kinds == (kind,)
    assert PLACEHOLDERS[kind] in result.text
    digits = "".join(c for c in text if c.isdigit())
    assert digits not in "".join(c for c in result.text if c.isdigit())


@pytest.mark.parametrize(
    "text",
    [
        "call me on 012-345 6789",
        "+60 12-345 6789",
        "my email is ana.lim@acme.com.my",
        "we have 1000+ staff and a budget of 50k",
        "4111 1111 1111 1112",  # fails the Luhn check
        "991332-14-5678",  # no 32nd of the 13th month
        "900101-00-5678",  # 00 is not a place-of-birth code
        "order number 12345678",  # no bank context
        "E1234567",  # a foreign passport number needs the word passport
        "Ana Lim, Head of Operations at Acme Sdn Bhd",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    result = redact(text)
    assert result.text == text
    assert not result.changed


def test_several_kinds_in_one_message_are_named_once_each() -> None:
    result = redact(
        "card 4111 1111 1111 1111, ic 900101-14-5678, card 5500005555555559"
    )
    assert result.kinds == ("card", "mykad")
    assert "4111" not in result.text and "900101" not in result.text
    assert describe(result.kinds) == "a payment card number and a MyKad number"


def test_scrub_reaches_nested_strings_and_keeps_keys() -> None:
    document = {
        "events": [
            {"text": "card 4111 1111 1111 1111", "timestamp": 1764780000.25},
            {"parse_data": {"text": "ic 900101145678"}, "name": "action_listen"},
        ]
    }
    scrubbed = scrub(document)
    assert scrubbed["events"][0]["text"] == "card [card number removed]"
    assert scrubbed["events"][0]["timestamp"] == 1764780000.25
    assert scrubbed["events"][1]["parse_data"]["text"] == "ic [MyKad number removed]"
    assert scrubbed["events"][1]["name"] == "action_listen"


@given(
    body=st.text(alphabet="0123456789", min_size=12, max_size=15),
    separator=st.sampled_from(["", " ", "-"]),
)
def test_every_luhn_valid_card_is_removed(body: str, separator: str) -> None:
    number = _luhn_complete("4" + body)
    if len(set(number)) == 1:
        return
    grouped = separator.join(number[i : i + 4] for i in range(0, len(number), 4))
    result = redact(f"pay with {grouped} now")
    assert number not in "".join(c for c in result.text if c.isdigit())
    assert "card" in result.kinds or "mykad" in result.kinds
