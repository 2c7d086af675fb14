"""CSRF protection for every state-changing console request.

A random secret lives in an HttpOnly, SameSite=Strict cookie; the token in
each form is an HMAC of that secret and the current session id under a key
derived from the key ring. A forged request from another site has neither
the secret nor the token, and a token from before sign-in stops working
when the session id changes. SameSite=Strict is a second, independent
layer. Cookieless public routes (the chat gateway, one-click unsubscribe)
are exempt through their access rule, not through a list of paths.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from leads.keyring import KeyRing

FIELD_NAME = "csrf_token"
HEADER_NAME = "x-csrf-token"
KEY_PURPOSE = "console/csrf"


def new_csrf_secret() -> str:
    """Return a fresh random secret for the CSRF cookie (128 bits)."""
    return secrets.token_urlsafe(16)


def csrf_token(keyring: KeyRing, secret: str, session_id: str) -> str:
    """Return the token forms must carry for this secret and session."""
    message = f"{secret}|{session_id}".encode()
    return hmac.new(keyring.derive(KEY_PURPOSE), message, hashlib.sha256).hexdigest()


def csrf_token_valid(
    keyring: KeyRing, secret: str, session_id: str, presented: str
) -> bool:
    """Whether a presented token matches; constant-time comparison."""
    if not secret or not presented:
        return False
    expected = csrf_token(keyring, secret, session_id)
    return hmac.compare_digest(expected, presented)
