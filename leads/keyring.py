"""The versioned key ring: key-encryption keys and a root for derived keys.

The ring is JSON, kept in a file with 0600 permissions
(``LEADGUARD_KEYRING_FILE``) or given whole in ``LEADGUARD_KEYRING``::

    {"format": 1, "active": 2,
     "keks": {"1": "<base64 32 bytes>", "2": "<base64 32 bytes>"},
     "root": "<base64 32 bytes>"}

Key-encryption keys (KEKs) wrap the per-subject data keys. The root never
encrypts anything itself: purpose keys (the blind index, unsubscribe tokens,
the tracker store) are derived from it with HKDF, so rotating a KEK does not
change any blind index.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import secrets
import stat
import threading
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from leads.errors import KeyringError

log = logging.getLogger(__name__)

KEY_BYTES = 32
FORMAT = 1


class KeyRing:
    """Key-encryption keys by version, the active version and the root.

    The key bytes never appear in ``repr()``, ``str()`` or an error message.
    When asked for a version it does not hold and it was loaded from a file,
    it reloads the file once, so a process keeps reading while another
    process rotates the ring.
    """

    def __init__(
        self,
        keks: Mapping[int, bytes],
        active: int,
        root: bytes,
        source: Path | None = None,
    ) -> None:
        self._keks = dict(keks)
        self._active = active
        self._root = root
        self._source = source
        self._lock = threading.Lock()
        _check_ring(self._keks, active, root)

    def __repr__(self) -> str:
        return f"KeyRing(active={self._active}, versions={self.versions})"

    __str__ = __repr__

    @property
    def active_version(self) -> int:
        """The version new data keys are wrapped under."""
        return self._active

    @property
    def versions(self) -> list[int]:
        """Every KEK version held, oldest first."""
        return sorted(self._keks)

    def kek(self, version: int) -> bytes:
        """Return the KEK of ``version``.

        Raises:
            KeyringError: the ring (even reloaded) has no such version.
        """
        if version not in self._keks and self._source is not None:
            self.reload()
        try:
            return self._keks[version]
        except KeyError:
            raise KeyringError(
                f"the key ring has no key-encryption key version {version}"
            ) from None

    def active_kek(self) -> bytes:
        """Return the active KEK."""
        return self.kek(self._active)

    def derive(self, purpose: str) -> bytes:
        """Derive a 32-byte key for ``purpose`` from the root with HKDF-SHA256.

        Different purposes give independent keys; the same purpose always
        gives the same key for the same ring.
        """
        hkdf = HKDF(
            algorithm=hashes.SHA256(),
            length=KEY_BYTES,
            salt=b"leadguard/v1",
            info=purpose.encode(),
        )
        return hkdf.derive(self._root)

    def reload(self) -> None:
        """Re-read the ring from its file (after a rotation elsewhere)."""
        if self._source is None:
            return
        with self._lock:
            fresh = load_keyring_file(self._source)
            if fresh._root != self._root:
                raise KeyringError(
                    f"{self._source}: the root key changed while running"
                )
            self._keks = fresh._keks
            self._active = fresh._active
            log.info("keyring.reloaded active=%s", self._active)


def _check_ring(keks: Mapping[int, bytes], active: int, root: bytes) -> None:
    if not keks:
        raise KeyringError("the key ring holds no key-encryption key")
    if active not in keks:
        raise KeyringError(f"the active key version {active} is not in the ring")
    for version, key in keks.items():
        if len(key) != KEY_BYTES:
            raise KeyringError(
                f"key-encryption key version {version} is {len(key)} bytes; "
                f"{KEY_BYTES} are required"
            )
    if len(root) != KEY_BYTES:
        raise KeyringError(
            f"the root key is {len(root)} bytes; {KEY_BYTES} are required"
        )


def _decode_key(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise KeyringError(f"{what} is not a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"{what} is not valid base64") from None


def parse_keyring(text: str, source: Path | None = None) -> KeyRing:
    """Parse the JSON form of a key ring.

    Raises:
        KeyringError: the text is not a complete, well-formed ring with
            32-byte keys. The message never contains key material.
    """
    where = str(source) if source else "LEADGUARD_KEYRING"
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise KeyringError(f"{where}: the key ring is not valid JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise KeyringError(f"{where}: unknown key ring format")
    raw_keks = data.get("keks")
    if not isinstance(raw_keks, dict):
        raise KeyringError(f"{where}: 'keks' is missing")
    try:
        keks = {
            int(version): _decode_key(value, f"{where}: key version {version}")
            for version, value in raw_keks.items()
        }
        active = int(data["active"])
    except (KeyError, TypeError, ValueError):
        raise KeyringError(f"{where}: 'active' or a key version is invalid") from None
    root = _decode_key(data.get("root"), f"{where}: root key")
    try:
        return KeyRing(keks, active, root, source)
    except KeyringError as exc:
        raise KeyringError(f"{where}: {exc}") from None


def load_keyring_file(path: Path) -> KeyRing:
    """Load a key ring from a file that only its owner can read.

    Raises:
        KeyringError: the file is missing, readable by group or others, or
            malformed.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyringError(
            f"{path}: key ring not found; create it with 'leadguard keys init'"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyringError(
            f"{path}: permissions are {stat.S_IMODE(mode):o}; run 'chmod 600' on it"
        )
    return parse_keyring(path.read_text(encoding="utf-8"), source=path)


def new_keyring_document() -> dict[str, object]:
    """Return a fresh ring with one KEK and a root, as a JSON-ready dict."""
    return {
        "format": FORMAT,
        "active": 1,
        "keks": {"1": _new_key()},
        "root": _new_key(),
    }


def _new_key() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def write_keyring_file(path: Path, document: Mapping[str, object]) -> None:
    """Write a ring atomically with 0600 permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def add_key_version(path: Path) -> int:
    """Add a new KEK to the ring file, make it active and return its version.

    The old versions stay in the ring: data keys wrapped under them stay
    readable until the rotation has re-wrapped them.
    """
    load_keyring_file(path)
    document = json.loads(path.read_text(encoding="utf-8"))
    version = max(int(v) for v in document["keks"]) + 1
    document["keks"][str(version)] = _new_key()
    document["active"] = version
    write_keyring_file(path, document)
    log.info("keyring.version_added version=%s", version)
    return version
