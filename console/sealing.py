"""Keys for console secrets: sealed user fields and keyed hashes.

Keys are derived from the key ring's root for one purpose each, so a copy
of the database alone neither opens a user's email address or TOTP secret
nor lets anyone test guesses against stored session ids, setup tokens or
recovery codes.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

from leads.field_cipher import field_aad, open_sealed, seal
from leads.keyring import KeyRing

USER_TABLE = "console_users"
SEAL_PURPOSE = "console/user-fields"
HASH_PURPOSE = "console/keyed-hash/"
USER_KEY_VERSION = 1


def keyed_hash(keyring: KeyRing, purpose: str, value: str) -> str:
    """Return the hex HMAC-SHA256 of ``value`` under a key for ``purpose``.

    Used for session ids, setup tokens, recovery codes and email lookups.
    Equal inputs give equal outputs (that is what makes lookups work); the
    value cannot be recovered, nor guessed offline without the key ring.
    """
    key = keyring.derive(HASH_PURPOSE + purpose)
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def seal_user_field(
    keyring: KeyRing, column: str, user_id: uuid.UUID, value: str
) -> bytes:
    """Seal one field of a console user, bound to its column and row."""
    aad = field_aad(USER_TABLE, column, user_id, USER_KEY_VERSION)
    return seal(keyring.derive(SEAL_PURPOSE), value.encode("utf-8"), aad)


def open_user_field(
    keyring: KeyRing, column: str, user_id: uuid.UUID, sealed: bytes
) -> str:
    """Open a field sealed by :func:`seal_user_field`.

    Raises:
        DecryptionError: the value was tampered with, moved or the ring is
            not the one it was sealed with.
    """
    aad = field_aad(USER_TABLE, column, user_id, USER_KEY_VERSION)
    return open_sealed(keyring.derive(SEAL_PURPOSE), sealed, aad).decode("utf-8")
