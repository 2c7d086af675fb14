"""The tracker store's keys, derived from the leadguard key ring.

The Rasa environment cannot import :mod:`leads`, so this module re-reads the
ring (``LEADGUARD_KEYRING`` JSON, or the file ``LEADGUARD_KEYRING_FILE``,
default ``$LEADGUARD_VAR_DIR/keyring.json``) and repeats the one derivation
it needs, byte for byte as :meth:`leads.keyring.KeyRing.derive` does it:
HKDF-SHA256 of the ring's root, salt ``b"leadguard/v1"``, info
``b"tracker-store"``. A second purpose key (info
``b"tracker-store/sender-index"``) keys the HMAC that replaces sender ids in
the database.

The store refuses to start without a ring; it never falls back to a random
or empty key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.errors import TranscriptKeyError

KEY_BYTES = 32
SALT = b"leadguard/v1"
ENCRYPTION_PURPOSE = "tracker-store"
SENDER_INDEX_PURPOSE = "tracker-store/sender-index"


def derive(root: bytes, purpose: str) -> bytes:
    """Derive a 32-byte purpose key from the ring's root (HKDF-SHA256)."""
    hkdf = HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=SALT, info=purpose.encode()
    )
    return hkdf.derive(root)


@dataclass(frozen=True)
class TranscriptKeys:
    """The two keys of the tracker store; never shown in ``repr()``."""

    encryption: bytes = field(repr=False)
    sender_index: bytes = field(repr=False)

    @classmethod
    def from_root(cls, root: bytes) -> TranscriptKeys:
        """Derive both keys from the key ring's root."""
        if len(root) != KEY_BYTES:
            raise TranscriptKeyError(f"the root key must be {KEY_BYTES} bytes")
        return cls(derive(root, ENCRYPTION_PURPOSE), derive(root, SENDER_INDEX_PURPOSE))

    def sender_key(self, sender_id: str) -> str:
        """Return the HMAC-SHA256 (hex) that stands for a sender id in SQL.

        Without the key ring the value reveals nothing about the session id,
        and it cannot be joined with the vault's own session links.
        """
        digest = hmac.new(self.sender_index, sender_id.encode("utf-8"), hashlib.sha256)
        return digest.hexdigest()


def _root_from_json(text: str, where: str) -> bytes:
    try:
        document = json.loads(text)
        encoded = document["root"]
        root = base64.b64decode(encoded, validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise TranscriptKeyError(f"{where}: not a valid leadguard key ring") from None
    if len(root) != KEY_BYTES:
        raise TranscriptKeyError(f"{where}: the root key is not {KEY_BYTES} bytes")
    return root


def keyring_file_from_env() -> Path:
    """Return the key ring file the environment names (or the default one)."""
    configured = os.environ.get("LEADGUARD_KEYRING_FILE")
    if configured:
        return Path(configured)
    var_dir = Path(os.environ.get("LEADGUARD_VAR_DIR") or "var")
    return var_dir.resolve() / "keyring.json"


def load_keys_from_env() -> TranscriptKeys:
    """Load the ring named by the environment and derive the store's keys.

    Raises:
        TranscriptKeyError: no ring is configured, the file is missing,
            readable by group or others, or malformed. The message names
            the variable or file, never key material.
    """
    inline = os.environ.get("LEADGUARD_KEYRING")
    if inline:
        return TranscriptKeys.from_root(_root_from_json(inline, "LEADGUARD_KEYRING"))
    path = keyring_file_from_env()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise TranscriptKeyError(
            f"{path}: key ring not found; create it with 'leadguard keys init'"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TranscriptKeyError(
            f"{path}: permissions are {stat.S_IMODE(mode):o}; run 'chmod 600' on it"
        )
    return TranscriptKeys.from_root(
        _root_from_json(path.read_text(encoding="utf-8"), str(path))
    )
