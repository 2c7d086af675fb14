"""Versioned privacy notices kept in the repository.

A consent record stores the version shown and the SHA-256 of its exact text,
so the ledger proves what the visitor agreed to even if a later version
changes the wording.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from leads.errors import NotFoundError

NOTICE_DIR = Path(__file__).with_name("notices")
CURRENT_VERSION = "1"


@dataclass(frozen=True)
class Notice:
    """One version of the privacy notice."""

    version: str
    text: str

    @property
    def sha256(self) -> str:
        """The SHA-256 of the notice's exact text, in hex."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@functools.cache
def notice(version: str) -> Notice:
    """Return the notice of ``version``.

    Raises:
        NotFoundError: no notice of that version exists.
    """
    if not version.isdigit():
        raise NotFoundError(f"no privacy notice version {version!r}")
    path = NOTICE_DIR / f"privacy-notice-v{version}.md"
    try:
        return Notice(version, path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFoundError(f"no privacy notice version {version!r}") from None


def current_notice() -> Notice:
    """Return the notice shown to visitors now."""
    return notice(CURRENT_VERSION)
