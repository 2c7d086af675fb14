"""Logging filters: the request id on every line, personal data off it.

:data:`request_id` is a context variable that the console's middleware (or a
Celery task) sets for the duration of one unit of work; every record logged
meanwhile carries it as ``request_id`` (``-`` outside any request).

:class:`PersonalDataScrubber` is the last line of defence, not the first:
code logs ids and counts and never values (STYLE.md). The scrubber masks
what still slips through and looks like an email address, a phone number or
a long run of digits in the *formatted* message and in exception text. It
cannot recognise a name or a company, so it does not make logging a
personal value acceptable.
"""

from __future__ import annotations

import contextvars
import logging
import re

NO_REQUEST = "-"
MASK = "[redacted]"

request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "leadguard_request_id", default=NO_REQUEST
)

# local@domain.tld, also with a URL-encoded '@'
_EMAIL = re.compile(r"[\w.+%-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
# a run of digits and separators not inside a word or an id (uuid parts)
_DIGITS = re.compile(r"(?<![\w-])\+?\d[\d ()./-]{6,}\d(?![\w-])")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MIN_PHONE_DIGITS = 8


def _mask_phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(char.isdigit() for char in text)
    if digits < MIN_PHONE_DIGITS or _ISO_DATE.match(text):
        return text
    return MASK


def scrub(text: str) -> str:
    """Return ``text`` with address- and phone-like substrings masked."""
    return _DIGITS.sub(_mask_phone, _EMAIL.sub(MASK, text))


class RequestIdFilter(logging.Filter):
    """Stamp each record with the current request id."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add ``record.request_id``; never drops a record."""
        record.request_id = request_id.get()
        return True


class PersonalDataScrubber(logging.Filter):
    """Mask address- and phone-like text in messages and exception text.

    The record's message is formatted once here (arguments merged) and the
    arguments dropped, so that a handler cannot format the raw values again.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops a record."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = scrub(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_text = scrub(formatted)
        return True
