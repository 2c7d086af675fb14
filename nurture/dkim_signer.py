"""Optional DKIM signing of outgoing messages (dkimpy).

Signing is on when ``LEADGUARD_DKIM_DOMAIN``, ``LEADGUARD_DKIM_SELECTOR`` and
``LEADGUARD_DKIM_PRIVATE_KEY_FILE`` are all set. The signed headers include
both ``List-Unsubscribe`` and ``List-Unsubscribe-Post``, as RFC 8058 asks,
so a relay cannot swap the unsubscribe target without breaking the
signature.
"""

from __future__ import annotations

import functools
from pathlib import Path

import dkim

from leads.errors import ConfigurationError
from leads.settings import Settings

__all__ = ["SIGNED_HEADERS", "DkimSigner", "signer_for"]

SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
)


class DkimSigner:
    """Signs messages for one domain and selector (relaxed/relaxed)."""

    def __init__(self, domain: str, selector: str, private_key: bytes) -> None:
        self._domain = domain.encode("ascii")
        self._selector = selector.encode("ascii")
        self._key = private_key

    def __repr__(self) -> str:
        return f"DkimSigner({self._domain.decode()}, {self._selector.decode()})"

    def sign(self, message: bytes) -> bytes:
        """Return ``message`` with a DKIM-Signature header prepended.

        Headers absent from the message are left out of the signature; the
        unsubscribe headers are signed whenever the message has them.

        Raises:
            ConfigurationError: the private key cannot sign.
        """
        present = {
            line.split(b":", 1)[0].strip().lower()
            for line in message.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
            if line and line[:1] not in (b" ", b"\t")
        }
        include = [h for h in SIGNED_HEADERS if h in present]
        try:
            signature = dkim.sign(
                message,
                self._selector,
                self._domain,
                self._key,
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=include,
            )
        except dkim.DKIMException as exc:
            raise ConfigurationError(
                "LEADGUARD_DKIM_PRIVATE_KEY_FILE: the key cannot sign"
            ) from exc
        return bytes(signature) + message


@functools.cache
def _load(domain: str, selector: str, path: Path) -> DkimSigner:
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            "LEADGUARD_DKIM_PRIVATE_KEY_FILE: cannot be read"
        ) from exc
    return DkimSigner(domain, selector, key)


def signer_for(settings: Settings) -> DkimSigner | None:
    """Return the configured signer, or None when DKIM is off.

    Raises:
        ConfigurationError: only some of the DKIM settings are set, or the
            key file cannot be read.
    """
    parts = (
        settings.dkim_domain,
        settings.dkim_selector,
        settings.dkim_private_key_file,
    )
    if not any(parts):
        return None
    if not all(parts):
        raise ConfigurationError(
            "LEADGUARD_DKIM_DOMAIN, _SELECTOR and _PRIVATE_KEY_FILE go together"
        )
    assert settings.dkim_private_key_file is not None  # noqa: S101
    return _load(
        settings.dkim_domain, settings.dkim_selector, settings.dkim_private_key_file
    )
