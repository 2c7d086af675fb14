"""The action server's one vault, opened on first use.

Opening checks the key ring against the database, so a wrong ring stops the
first action that needs the vault (with a generic reply to the visitor and
an error in the log) rather than writing anything under the wrong keys.
"""

from __future__ import annotations

import threading

from leads.settings import get_settings
from leads.vault import Vault

_lock = threading.Lock()
_vault: Vault | None = None


def get_vault() -> Vault:
    """Return the process-wide vault, opening it on first use.

    Raises:
        KeyringError: the key ring is missing or does not match the database.
    """
    global _vault
    with _lock:
        if _vault is None:
            _vault = Vault.from_settings(get_settings())
        return _vault


def reset_vault() -> None:
    """Forget the vault (tests switch settings between cases)."""
    global _vault
    with _lock:
        _vault = None
