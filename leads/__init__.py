"""leadguard's core: settings, the vault, the consent ledger and the audit chain."""
