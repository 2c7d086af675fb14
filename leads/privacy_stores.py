"""Stores outside the database that can hold a subject's data.

Each store answers three questions for privacy operations: erase what
belongs to a subject, say what is still there, and export what it holds.
A store that is not configured in this deployment says so (``unavailable``)
instead of pretending it erased something.

- :class:`TrackerStore`: the Rasa conversations, found by the chat session
  ids linked to the lead (module ``bot.tracker_admin``).
- :class:`RedisStore`: keys in every Redis named by a ``*_url`` setting whose
  name contains a linked chat session id or the lead id (lock store, caches).
- :class:`MailFolder`: the development mail sink's ``.eml`` files addressed
  to the subject (matched by blind index, so a re-run after the lead row is
  gone still finds them).

Limits: a store is only as complete as what it is told. A conversation that
was never linked to the lead (the visitor left before giving an address) is
not found by erasure; the tracker's retention purge removes it instead.
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import importlib
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from sqlalchemy import func, select

from leads.blind_index import blind_index_for_email
from leads.errors import InvalidInputError
from leads.keyring import KeyRing
from leads.personal import Personal
from leads.settings import Settings

log = logging.getLogger(__name__)

TRACKER_ADMIN_MODULE = "bot.tracker_admin"
ADDRESS_HEADERS = ("to", "cc", "bcc", "delivered-to")
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


@dataclass(frozen=True, repr=False)
class ErasureTarget:
    """Everything the stores need to find one subject's data.

    ``values`` are the subject's identifying values (email, name, phone),
    decrypted just before erasure and held in memory only, for the final
    scan; they are empty when an erasure resumes after a crash.
    """

    lead_id: uuid.UUID
    email_index: bytes | None
    chat_session_ids: tuple[str, ...] = ()
    values: tuple[Personal[str], ...] = field(default=())

    def __repr__(self) -> str:
        return (
            f"ErasureTarget(lead_id={self.lead_id}, "
            f"chat_sessions={len(self.chat_session_ids)})"
        )


class ExternalStore(Protocol):
    """What the privacy operations ask of a store outside the database."""

    name: str

    def unavailable(self) -> str | None:
        """Return why the store cannot be reached here, or None."""

    def erase(self, target: ErasureTarget) -> int:
        """Remove the subject's records; return how many went (idempotent)."""

    def remaining(self, target: ErasureTarget) -> list[str]:
        """Name the places that still hold the subject (empty when clean)."""

    def export(self, target: ErasureTarget) -> list[dict[str, Any]]:
        """Return the subject's records, JSON-ready."""


def _tracker_admin() -> ModuleType | None:
    try:
        return importlib.import_module(TRACKER_ADMIN_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name not in (TRACKER_ADMIN_MODULE, "bot"):
            raise
        return None


def tracker_database_url(settings: Settings) -> str:
    """The tracker store's database: the setting, or ``var/tracker.db``."""
    if settings.tracker_db_url:
        return settings.tracker_db_url
    return f"sqlite:///{settings.var_dir.resolve() / 'tracker.db'}"


class TrackerStore:
    """The Rasa tracker store, through the bot package's admin module.

    The repository is opened with keys derived from the application's key
    ring (the same derivation the Rasa process makes from the same ring),
    so the application needs no second copy of the ring's location.
    """

    name = "tracker_store"

    def __init__(
        self, admin: ModuleType | None, database_url: str, keyring: KeyRing
    ) -> None:
        self._admin = admin
        self.database_url = database_url
        self._keyring = keyring
        self._open: Any = None

    @classmethod
    def from_settings(cls, settings: Settings, keyring: KeyRing) -> TrackerStore:
        """Find the admin module and the tracker database of the settings."""
        return cls(_tracker_admin(), tracker_database_url(settings), keyring)

    def unavailable(self) -> str | None:
        """Say why the tracker store is out of reach, if it is."""
        if self._admin is None:
            return f"{TRACKER_ADMIN_MODULE} is not installed"
        return None

    def _repository(self, retention_days: int | None = None) -> Any:
        assert self._admin is not None  # noqa: S101 - checked by callers
        from bot.transcript_keys import TranscriptKeys
        from bot.transcript_repository import (
            DEFAULT_RETENTION_DAYS,
            TranscriptRepository,
        )

        keys = TranscriptKeys(
            self._keyring.derive("tracker-store"),
            self._keyring.derive("tracker-store/sender-index"),
        )
        days = retention_days or DEFAULT_RETENTION_DAYS
        return TranscriptRepository(keys, self.database_url, days)

    def _call(self, function: str, *args: Any, retention_days: int = 0) -> Any:
        assert self._admin is not None  # noqa: S101 - checked by callers
        if retention_days:
            repository = self._repository(retention_days)
            try:
                return getattr(self._admin, function)(*args, repository=repository)
            finally:
                repository.close()
        if self._open is None:
            self._open = self._repository()
        return getattr(self._admin, function)(*args, repository=self._open)

    def close(self) -> None:
        """Release the tracker database's connections."""
        if self._open is not None:
            self._open.close()
            self._open = None

    def erase(self, target: ErasureTarget) -> int:
        """Delete every conversation of the linked chat sessions."""
        if self._admin is None or not target.chat_session_ids:
            return 0
        return int(self._call("delete_conversations", list(target.chat_session_ids)))

    def remaining(self, target: ErasureTarget) -> list[str]:
        """Name the linked sessions whose conversation still exists."""
        if self._admin is None:
            return []
        return [
            f"tracker_store:session#{number}"
            for number, session_id in enumerate(target.chat_session_ids, 1)
            if self._call("export_conversation", session_id)
        ]

    def export(self, target: ErasureTarget) -> list[dict[str, Any]]:
        """Return each linked conversation's events, decrypted."""
        if self._admin is None:
            return []
        transcripts = []
        for session_id in target.chat_session_ids:
            events = self._call("export_conversation", session_id)
            if events:
                transcripts.append({"chat_session_id": session_id, "events": events})
        return transcripts

    def purge_expired(self, retention_days: int) -> int:
        """Delete every conversation untouched for ``retention_days``."""
        if self._admin is None:
            return 0
        return int(self._call("purge_expired", retention_days=retention_days))

    def count_expired(self, retention_days: int) -> int:
        """Count the conversations a purge would delete (for a dry run)."""
        if self._admin is None:
            return 0
        import time

        from bot.transcript_repository import transcripts

        cutoff = time.time() - retention_days * 86_400
        repository = self._repository(retention_days)
        try:
            with repository.engine.connect() as connection:
                rows = connection.execute(
                    select(func.count())
                    .select_from(transcripts)
                    .where(transcripts.c.updated_at < cutoff)
                ).scalar()
        finally:
            repository.close()
        return int(rows or 0)

    def files(self) -> list[Path]:
        """The tracker's SQLite files, for a raw scan (none on PostgreSQL)."""
        if not self.database_url.startswith("sqlite"):
            return []
        path = Path(self.database_url.split("///", 1)[-1])
        return [path, Path(f"{path}-wal")]


class RedisStore:
    """Every Redis the settings name; keys are matched by id, never by value."""

    name = "redis"

    def __init__(self, urls: list[str]) -> None:
        self._urls = urls

    @classmethod
    def from_settings(cls, settings: Settings) -> RedisStore:
        """Collect the Redis URLs among the ``*_url`` settings."""
        urls = sorted(
            {
                str(value)
                for name, value in settings.model_dump().items()
                if name.endswith("_url")
                and isinstance(value, str)
                and value.startswith(REDIS_SCHEMES)
            }
        )
        return cls(urls)

    def unavailable(self) -> str | None:
        """Say why no Redis is searched, if none is."""
        return None if self._urls else "no Redis is configured"

    def _matching_keys(self, target: ErasureTarget) -> Iterator[tuple[Any, bytes]]:
        import redis

        patterns = [f"*{session_id}*" for session_id in target.chat_session_ids]
        patterns.append(f"*{target.lead_id}*")
        for url in self._urls:
            client = redis.Redis.from_url(url)
            try:
                for pattern in patterns:
                    for key in client.scan_iter(match=_glob_escape(pattern)):
                        yield client, key
            finally:
                client.close()

    def erase(self, target: ErasureTarget) -> int:
        """Delete every key that names a linked session or the lead."""
        removed = 0
        for client, key in list(self._matching_keys(target)):
            removed += int(client.delete(key))
        return removed

    def remaining(self, target: ErasureTarget) -> list[str]:
        """Name the Redis keys that still name the subject (by count only)."""
        count = sum(1 for _ in self._matching_keys(target))
        return [f"redis:{count} keys"] if count else []

    def export(self, target: ErasureTarget) -> list[dict[str, Any]]:
        """Redis holds locks and caches, not records for a subject."""
        return []


def _glob_escape(pattern: str) -> str:
    inner = pattern[1:-1]
    for char in "\\?[]":
        inner = inner.replace(char, "\\" + char)
    return f"*{inner}*"


class MailFolder:
    """The development mail sink: one ``.eml`` file per message."""

    name = "mail_folder"

    def __init__(self, folder: Path, keyring: KeyRing) -> None:
        self.folder = folder
        self._keyring = keyring
        self._indexes: dict[Path, tuple[float, frozenset[bytes]]] = {}

    @classmethod
    def from_settings(cls, settings: Settings, keyring: KeyRing) -> MailFolder:
        """Use ``<var_dir>/mail`` (or the ``mail_dir`` setting when present)."""
        configured = getattr(settings, "mail_dir", None)
        folder = Path(configured) if configured else settings.var_dir / "mail"
        return cls(folder.resolve(), keyring)

    def unavailable(self) -> str | None:
        """The folder always counts: absent simply means empty."""
        return None

    def _messages(self) -> Iterator[Path]:
        if self.folder.is_dir():
            yield from sorted(self.folder.rglob("*.eml"))

    def _address_indexes(self, path: Path, raw: bytes) -> frozenset[bytes]:
        """Blind indexes of a message's recipients, cached by modification time."""
        mtime = path.stat().st_mtime
        cached = self._indexes.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
        headers = parser.parsebytes(raw)
        addresses = email.utils.getaddresses(
            [str(v) for name in ADDRESS_HEADERS for v in headers.get_all(name, [])]
        )
        indexes = set()
        for _, address in addresses:
            try:
                indexes.add(blind_index_for_email(self._keyring, address))
            except InvalidInputError:
                continue
        found = frozenset(indexes)
        self._indexes[path] = (mtime, found)
        return found

    def _is_subject_message(self, path: Path, target: ErasureTarget) -> bool:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return False
        lowered = raw.lower()
        for value in target.values:
            text = value.reveal()
            if text and (text.encode() in raw or text.lower().encode() in lowered):
                return True
        if str(target.lead_id).encode() in raw:
            return True
        if target.email_index is None:
            return False
        return target.email_index in self._address_indexes(path, raw)

    def subject_messages(self, target: ErasureTarget) -> list[Path]:
        """Return the messages addressed to (or naming) the subject."""
        return [p for p in self._messages() if self._is_subject_message(p, target)]

    def erase(self, target: ErasureTarget) -> int:
        """Delete the subject's messages."""
        removed = 0
        for path in self.subject_messages(target):
            path.unlink(missing_ok=True)
            removed += 1
        return removed

    def remaining(self, target: ErasureTarget) -> list[str]:
        """Name the messages that still concern the subject."""
        return [f"mail_folder:{path.name}" for path in self.subject_messages(target)]

    def export(self, target: ErasureTarget) -> list[dict[str, Any]]:
        """Return the headers and text of each message sent to the subject."""
        exported = []
        parser = email.parser.BytesParser(policy=email.policy.default)
        for path in self.subject_messages(target):
            message = parser.parsebytes(path.read_bytes())
            body = message.get_body(preferencelist=("plain", "html"))
            exported.append(
                {
                    "file": path.name,
                    "date": str(message.get("date", "")),
                    "subject": str(message.get("subject", "")),
                    "to": str(message.get("to", "")),
                    "text": body.get_content() if body is not None else "",
                }
            )
        return exported


def external_stores(settings: Settings, keyring: KeyRing) -> list[ExternalStore]:
    """Return every store outside the database, in erasure order."""
    return [
        TrackerStore.from_settings(settings, keyring),
        RedisStore.from_settings(settings),
        MailFolder.from_settings(settings, keyring),
    ]
