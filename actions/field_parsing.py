"""Turn what visitors type into the lead form's values (pure functions).

Band questions come with buttons whose payloads are the band keys of
``leads/scoring.yml``; people also type ("about 30 of us", "next month",
"RM 20k"), so each band has a small parser. Corrections ("sorry, my email
is ...") are parsed into the field they name and the new value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.com.my",
        "ymail.com",
        "rocketmail.com",
        "hotmail.com",
        "hotmail.my",
        "outlook.com",
        "outlook.my",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.net",
        "mail.com",
        "zoho.com",
        "yandex.com",
        "qq.com",
        "163.com",
        "126.com",
        "tutanota.com",
        "fastmail.com",
    }
)

EMAIL_PATTERN = re.compile(
    r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
_NUMBER = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(k|thousand|m|mil|million)?\b", re.IGNORECASE
)

FIELD_ALIASES = {
    "name": "name",
    "email": "email",
    "e-mail": "email",
    "mail": "email",
    "email address": "email",
    "company": "company",
    "company name": "company",
    "organisation": "company",
    "organization": "company",
    "job title": "job_title",
    "job_title": "job_title",
    "title": "job_title",
    "role": "job_title",
    "position": "job_title",
    "designation": "job_title",
    "phone": "phone",
    "phone number": "phone",
    "number": "phone",
    "mobile": "phone",
    "handphone": "phone",
    "need": "need",
    "needs": "need",
}
_CORRECTION = re.compile(
    r"\b(?P<field>email address|e-mail|email|mail|company name|company|"
    r"organi[sz]ation|job title|title|role|position|designation|phone number|"
    r"phone|mobile|handphone|number|name|needs?)\b"
    r"(?:\s*(?:is|was|should be|to|:|=|-)\s*|\s+)(?:actually\s+)?(?P<value>.+)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Correction:
    """A field the visitor wants to change and its new (unvalidated) value."""

    field: str
    value: str


def find_email(text: str) -> str | None:
    """Return the first thing in ``text`` that looks like an email address."""
    match = EMAIL_PATTERN.search(text)
    return match.group(0) if match else None


def is_free_mail(address: str) -> bool:
    """Whether a (normalised) address belongs to a free personal mail service."""
    domain = address.rsplit("@", 1)[-1].lower()
    return domain in FREE_MAIL_DOMAINS


def parse_correction(text: str, field_entity: str | None = None) -> Correction | None:
    """Find which field a correction names and the new value.

    An email address anywhere in the message is a correction of the email.
    Otherwise the field is the ``field`` entity (if the NLU found one) or a
    field name in the text, and the value is what follows "is", "to" or ":".
    """
    email = find_email(text)
    if email:
        return Correction("email", email)
    match = _CORRECTION.search(text)
    if not match:
        return None
    field = FIELD_ALIASES.get((field_entity or "").lower()) or FIELD_ALIASES.get(
        match.group("field").lower()
    )
    value = match.group("value").strip().strip(".!").strip()
    if not field or not value:
        return None
    return Correction(field, value)


def _amount(text: str) -> float | None:
    """Return the first number in ``text``, with k/m multipliers applied."""
    match = _NUMBER.search(text.replace(",", ""))
    if not match:
        return None
    value = float(match.group(1))
    unit = (match.group(2) or "").lower()
    if unit in ("k", "thousand"):
        value *= 1_000
    elif unit in ("m", "mil", "million"):
        value *= 1_000_000
    return value


def parse_company_size(text: str, choices: list[str]) -> str | None:
    """Map an answer to a company size band ("1-10" ... "1000+")."""
    cleaned = text.strip().lower()
    if cleaned in choices:
        return cleaned
    if re.search(r"\b(just me|only me|myself|solo|freelanc)", cleaned):
        return "1-10"
    count = _amount(cleaned)
    if count is None:
        return None
    if count <= 10:
        return "1-10"
    if count <= 50:
        return "11-50"
    if count <= 200:
        return "51-200"
    if count <= 1000:
        return "201-1000"
    return "1000+"


_TIMELINE_WORDS = (
    (
        "this_month",
        r"asap|urgent|immediately|this month|next week|this week|"
        r"right away|now|within (?:a|one|1) month|next few weeks",
    ),
    (
        "this_quarter",
        r"quarter|next (?:2|3|two|three) months|within (?:2|3|two|"
        r"three) months|next month|soon",
    ),
    (
        "this_year",
        r"this year|(?:6|six|9|nine|12|twelve) months|later|"
        r"end of (?:the )?year|next year",
    ),
    (
        "exploring",
        r"explor|just looking|browsing|not sure|no rush|no plans|"
        r"research|don't know|dont know|unsure|curious",
    ),
)


def parse_timeline(text: str, choices: list[str]) -> str | None:
    """Map an answer to a timeline band (this_month ... exploring)."""
    cleaned = text.strip().lower().replace(" ", "_")
    if cleaned in choices:
        return cleaned
    lowered = text.lower()
    for band, pattern in _TIMELINE_WORDS:
        if band in choices and re.search(pattern, lowered):
            return band
    return None


def parse_budget(text: str, choices: list[str]) -> str | None:
    """Map an answer to a budget band (under_10k ... over_200k), in RM."""
    cleaned = text.strip().lower()
    if cleaned in choices:
        return cleaned
    amount = _amount(cleaned)
    if amount is None:
        return None
    if amount < 10_000:
        return "under_10k"
    if amount < 50_000:
        return "10k_50k"
    if amount <= 200_000:
        return "50k_200k"
    return "over_200k"
