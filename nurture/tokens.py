"""Opaque unsubscribe tokens: a lead id, encrypted and authenticated.

A token is ``base64url(nonce || AES-256-GCM(lead id))`` under a key derived
from the key ring's root for this purpose only, so it names no person and
reveals no id to whoever reads the link, and a changed or invented token
fails to open.

Limits: tokens do not expire (RFC 8058 links must keep working long after
the email was sent) and cannot be revoked one by one; anyone holding a
token can unsubscribe that lead, which is the point of a one-click link.
Rotating the key ring's root invalidates every token sent before.
"""

from __future__ import annotations

import base64
import binascii
import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from leads.keyring import KeyRing
from nurture.errors import UnsubscribeTokenError

__all__ = ["TOKEN_PURPOSE", "open_unsubscribe_token", "unsubscribe_token"]

TOKEN_PURPOSE = "unsubscribe-token"  # noqa: S105 - a key purpose label
_AAD = b"leadguard/unsubscribe/v1"
_NONCE_BYTES = 12
_TOKEN_BYTES = _NONCE_BYTES + 16 + 16
MAX_TOKEN_CHARS = 80


def unsubscribe_token(keyring: KeyRing, lead_id: uuid.UUID) -> str:
    """Return a fresh opaque token that unsubscribes ``lead_id``.

    Each call draws a new nonce, so two emails to one lead carry different
    tokens; both open to the same lead.
    """
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(keyring.derive(TOKEN_PURPOSE)).encrypt(nonce, lead_id.bytes, _AAD)
    return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")


def open_unsubscribe_token(keyring: KeyRing, token: str) -> uuid.UUID:
    """Return the lead id inside a token.

    Raises:
        UnsubscribeTokenError: the token is malformed, was altered, or was
            made under another key. The error does not say which.
    """
    if not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        raise UnsubscribeTokenError
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise UnsubscribeTokenError from None
    if len(raw) != _TOKEN_BYTES:
        raise UnsubscribeTokenError
    nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
    try:
        plain = AESGCM(keyring.derive(TOKEN_PURPOSE)).decrypt(nonce, sealed, _AAD)
    except InvalidTag:
        raise UnsubscribeTokenError from None
    return uuid.UUID(bytes=plain)
