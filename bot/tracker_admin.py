"""Transcript operations for the application (privacy requests, retention).

Importable from the application (Python 3.11, SQLAlchemy 2) without Rasa:
it uses the same repository, keys and database as the tracker store.

    >>> from bot import tracker_admin
    >>> tracker_admin.delete_conversations(["<session id>"])
    >>> tracker_admin.export_conversation("<session id>")
    >>> tracker_admin.purge_expired()

Every function opens the database named by the environment
(``LEADGUARD_TRACKER_DB_URL`` or ``$LEADGUARD_VAR_DIR/tracker.db``) with the
key ring named by the environment, unless a repository is given.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from bot.transcript_keys import load_keys_from_env
from bot.transcript_repository import TranscriptRepository, retention_days_from_env

log = logging.getLogger(__name__)


def open_repository(url: str | None = None) -> TranscriptRepository:
    """Open the transcript repository the environment configures.

    Raises:
        TranscriptKeyError: no key ring is configured.
        TranscriptStoreError: the database cannot be reached.
    """
    return TranscriptRepository(load_keys_from_env(), url, retention_days_from_env())


def delete_conversations(
    sender_ids: Iterable[str], repository: TranscriptRepository | None = None
) -> int:
    """Delete the transcripts of these chat session ids; return how many."""
    repo = repository or open_repository()
    try:
        return repo.delete(list(sender_ids))
    finally:
        if repository is None:
            repo.close()


def export_conversation(
    sender_id: str, repository: TranscriptRepository | None = None
) -> list[dict[str, Any]]:
    """Return the decrypted events of one conversation (empty if none).

    The events are Rasa's JSON event dictionaries, already scrubbed of
    sensitive numbers. The caller holds personal data: keep it out of logs.

    Raises:
        TranscriptDecryptionError: the stored row does not decrypt.
    """
    repo = repository or open_repository()
    try:
        document = repo.load(sender_id)
    finally:
        if repository is None:
            repo.close()
    if not document:
        return []
    return list(document.get("events", []))


def purge_expired(repository: TranscriptRepository | None = None) -> int:
    """Delete every transcript past its retention; return how many."""
    repo = repository or open_repository()
    try:
        return repo.purge_expired()
    finally:
        if repository is None:
            repo.close()
