"""Objects the commands share: settings and the vault, opened on demand."""

from __future__ import annotations

from leads.settings import Settings, get_settings
from leads.vault import Vault


def open_vault(settings: Settings | None = None) -> Vault:
    """Open the vault, refusing to start with a missing or wrong key ring."""
    return Vault.from_settings(settings or get_settings())
