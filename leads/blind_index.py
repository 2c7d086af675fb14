"""Keyed blind indexes: find a lead by email without decrypting anything."""

from __future__ import annotations

import hashlib
import hmac

from email_validator import EmailNotValidError, validate_email

from leads.errors import InvalidInputError
from leads.keyring import KeyRing

INDEX_PURPOSE = "blind-index/email"
MAX_EMAIL_LENGTH = 254


def normalise_email(address: str) -> str:
    """Return the canonical form of an email address used for matching.

    Surrounding space is dropped, the domain is converted to its ASCII
    (IDNA) form and the whole address is lower-cased, so ``" Ana@Bücher.MY "``
    and ``"ana@xn--bcher-kva.my"`` match.

    Raises:
        InvalidInputError: the address is not a valid email address.
    """
    candidate = address.strip()
    if len(candidate) > MAX_EMAIL_LENGTH:
        raise InvalidInputError("email", "is longer than 254 characters")
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError:
        raise InvalidInputError("email", "is not a valid email address") from None
    domain = result.ascii_domain or result.domain
    return f"{result.local_part.lower()}@{domain.lower()}"


def blind_index_for_email(keyring: KeyRing, address: str) -> bytes:
    """Return the HMAC-SHA256 blind index of a normalised email address.

    The key is derived from the ring's root for this purpose only. Anyone
    holding the key can test a guessed address against an index; without
    it, the index reveals nothing about the address.

    Raises:
        InvalidInputError: the address is not a valid email address.
    """
    key = keyring.derive(INDEX_PURPOSE)
    normalised = normalise_email(address).encode()
    return hmac.new(key, normalised, hashlib.sha256).digest()
