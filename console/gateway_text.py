"""Cleaning of chat text on its way in (visitor) and out (bot replies).

Everything a visitor types passes :func:`clean_visitor_text` before it goes
anywhere; everything the bot says passes :func:`clean_bot_text` before it is
sent to the widget. Both return plain text: the widget renders it with
``textContent``, never as HTML, so markup in either direction stays inert.
"""

from __future__ import annotations

import unicodedata

from leads.errors import InvalidInputError

# Unicode categories removed from text: controls, format characters (bidi
# overrides, zero-width joiners used to smuggle text), surrogates, private
# use and unassigned code points.
_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
MAX_BOT_TEXT = 2000
MAX_BUTTON_TITLE = 80
MAX_BUTTON_PAYLOAD = 200


def _strip_controls(value: str, keep_newlines: bool) -> str:
    kept = []
    for ch in unicodedata.normalize("NFC", value):
        if keep_newlines and ch == "\n":
            kept.append(ch)
        elif unicodedata.category(ch) in _REMOVED_CATEGORIES:
            kept.append(" ")
        else:
            kept.append(ch)
    return "".join(kept)


def clean_visitor_text(value: str, max_chars: int) -> str:
    """Return a visitor's message as safe single-paragraph plain text.

    Control, format, surrogate, private-use and unassigned characters become
    spaces, runs of whitespace collapse to one space, and leading slashes are
    dropped so that typed text can never pose as a Rasa intent payload
    (``/intent{"slot": ...}``); quick replies travel as signed tokens instead
    (:mod:`console.gateway_signing`).

    Raises:
        InvalidInputError: nothing is left after cleaning, or the text is
            longer than ``max_chars`` characters.

    Limits: this makes text safe to transport and display; it does not
    remove personal data (see :mod:`console.gateway_redaction`).
    """
    cleaned = " ".join(_strip_controls(value, keep_newlines=False).split())
    cleaned = cleaned.lstrip("/ ")
    if not cleaned:
        raise InvalidInputError("message", "is empty")
    if len(cleaned) > max_chars:
        raise InvalidInputError("message", f"is longer than {max_chars} characters")
    return cleaned


def clean_bot_text(value: object, max_chars: int = MAX_BOT_TEXT) -> str:
    """Return a bot reply as plain text, keeping its line breaks.

    Non-strings become an empty string; the text is cut to ``max_chars``.
    """
    if not isinstance(value, str):
        return ""
    lines = _strip_controls(value, keep_newlines=True).split("\n")
    text = "\n".join(" ".join(line.split()) for line in lines).strip()
    return text[:max_chars]
