"""Signed chat session tokens and quick-reply tokens.

The gateway issues each chat an opaque random session id
(``secrets.token_urlsafe(24)``, 192 bits) and hands the widget a token made
of that id and an HMAC over it. Only ids the gateway issued are accepted, so
nobody can choose the id Rasa sees (it can never be an email or a name).

Quick-reply buttons carry Rasa payloads such as ``/consent_yes``. The widget
never sends a payload it made up: each button reaches it as a token binding
the payload to the session with an HMAC, and the gateway forwards only
payloads whose token verifies. Typed text can therefore never set intents or
slots directly.

The key is derived from the key ring (HKDF, purpose ``chat-gateway/v1``), so
every console replica shares it and no new secret needs managing.

Limits: tokens do not expire on their own; a session ends when the widget's
tab closes (the token lives in ``sessionStorage``) and Rasa's own session
expiry applies. A token copied out of a browser lets its holder continue
that chat, as with any bearer token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from typing import TypeGuard

from leads.errors import InvalidInputError

SESSION_ID_BYTES = 24
MAC_CHARS = 22
MAX_TOKEN_CHARS = 600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _plausible(token: object) -> TypeGuard[str]:
    """Whether ``token`` is an ASCII string short enough to be one of ours."""
    return (
        isinstance(token, str) and 0 < len(token) <= MAX_TOKEN_CHARS and token.isascii()
    )


def _unb64(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


class ChatSigner:
    """Issues and checks session and quick-reply tokens under one key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the chat signing key must be at least 32 bytes")
        self._key = key

    def __repr__(self) -> str:
        return "ChatSigner(«key»)"

    def _mac(self, *parts: str) -> str:
        message = "|".join(parts).encode("utf-8")
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return _b64(digest)[:MAC_CHARS]

    def new_session(self) -> tuple[str, str]:
        """Return a fresh ``(session_id, session_token)`` pair."""
        session_id = secrets.token_urlsafe(SESSION_ID_BYTES)
        return session_id, f"{session_id}.{self._mac('session', session_id)}"

    def session_id_of(self, token: object) -> str:
        """Return the session id inside a token the gateway issued.

        Raises:
            InvalidInputError: the token is missing, malformed or forged.
        """
        if not _plausible(token):
            raise InvalidInputError("session", "is not a chat session")
        session_id, _, mac = token.partition(".")
        expected = self._mac("session", session_id)
        if not session_id or not hmac.compare_digest(
            mac.encode("ascii"), expected.encode("ascii")
        ):
            raise InvalidInputError("session", "is not a chat session")
        return session_id

    def reply_token(self, session_id: str, payload: str) -> str:
        """Return the token a quick-reply button carries for ``payload``."""
        encoded = _b64(payload.encode("utf-8"))
        return f"{encoded}.{self._mac('reply', session_id, payload)}"

    def payload_of(self, session_id: str, token: object) -> str:
        """Return the payload of a quick-reply token issued to this session.

        Raises:
            InvalidInputError: the token is malformed, forged or belongs to
                another session.
        """
        if not _plausible(token):
            raise InvalidInputError("reply", "is not a quick reply")
        encoded, _, mac = token.partition(".")
        try:
            payload = _unb64(encoded).decode("utf-8")
        except (binascii.Error, ValueError) as exc:
            raise InvalidInputError("reply", "is not a quick reply") from exc
        expected = self._mac("reply", session_id, payload)
        if not hmac.compare_digest(mac.encode("ascii"), expected.encode("ascii")):
            raise InvalidInputError("reply", "is not a quick reply")
        return payload
