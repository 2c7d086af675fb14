"""AES-256-GCM sealing of one value, bound to where it belongs.

Sealed format, version 1::

    0x01 | nonce (12 bytes) | ciphertext and 16-byte tag

The associated data names the table, column, row and data-key version, so a
ciphertext copied to another row or column fails to open. A fresh random
nonce is drawn for every encryption. With random 96-bit nonces one key
should seal fewer than 2**32 values; a data key belongs to one subject and
seals a handful of values, far below that bound.

Limits: the length of the plaintext is visible (roughly) in the ciphertext.
"""

from __future__ import annotations

import secrets
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from leads.errors import DecryptionError

FORMAT_V1 = 1
NONCE_BYTES = 12


def field_aad(
    table: str, column: str, row_id: uuid.UUID | str, key_version: int
) -> bytes:
    """Return the associated data that binds a value to its place."""
    return f"leadguard/v1|{table}|{column}|{row_id}|{key_version}".encode()


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt ``plaintext`` under ``key``, bound to ``aad``."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return bytes([FORMAT_V1]) + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """Decrypt a value sealed by :func:`seal`.

    Raises:
        DecryptionError: for every failure alike (unknown format, truncated
            data, wrong key, tampering, different associated data).
    """
    if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[0] != FORMAT_V1:
        raise DecryptionError()
    nonce = sealed[1 : 1 + NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, sealed[1 + NONCE_BYTES :], aad)
    except (InvalidTag, ValueError):
        raise DecryptionError() from None
