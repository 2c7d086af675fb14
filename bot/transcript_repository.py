"""Encrypted conversation transcripts in SQL, one row per conversation.

Shared by the Rasa tracker store (:mod:`bot.tracker_store`, SQLAlchemy 1.4)
and the application's admin functions (:mod:`bot.tracker_admin`,
SQLAlchemy 2): only SQLAlchemy Core constructs that behave the same in both.

A row holds:

* ``sender_key``: the HMAC of the session id (never the id itself);
* ``ciphertext``: version byte, 12-byte nonce, AES-256-GCM of the JSON
  transcript, with associated data binding it to the session id, so a row
  copied to another conversation fails to decrypt;
* ``created_at`` / ``updated_at``: Unix times, for retention.

Before encryption every string of the transcript goes through
:func:`bot.redaction.scrub` (the input channel already redacted; this is the
second line of defence).

Limits: the timestamps and the ciphertext length (roughly the conversation's
length) are stored in clear. Retention is enforced when a conversation is
read and by :meth:`TranscriptRepository.purge_expired`; a row past its
retention stays on disk until one of the two runs.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    Column,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.pool import QueuePool

from bot.errors import (
    TranscriptDecryptionError,
    TranscriptKeyError,
    TranscriptStoreError,
)
from bot.redaction import scrub
from bot.transcript_keys import TranscriptKeys

log = logging.getLogger(__name__)

FORMAT_VERSION = b"\x01"
NONCE_BYTES = 12
AAD_PREFIX = b"leadguard/transcript/v1|"
DEFAULT_RETENTION_DAYS = 30
SECONDS_PER_DAY = 86_400
SQLITE_BUSY_TIMEOUT_S = 30

metadata = MetaData()
transcripts = Table(
    "leadguard_transcripts",
    metadata,
    Column("sender_key", String(64), primary_key=True),
    Column("key_version", Integer, nullable=False, default=1),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False, index=True),
)


def default_database_url() -> str:
    """Return ``LEADGUARD_TRACKER_DB_URL`` or the SQLite file in the var dir."""
    configured = os.environ.get("LEADGUARD_TRACKER_DB_URL")
    if configured:
        return configured
    var_dir = Path(os.environ.get("LEADGUARD_VAR_DIR") or "var").resolve()
    return f"sqlite:///{var_dir / 'tracker.db'}"


def retention_days_from_env() -> int:
    """Return ``LEADGUARD_TRANSCRIPT_RETENTION_DAYS`` (default 30).

    Raises:
        TranscriptStoreError: the value is not a whole number of days >= 1.
    """
    raw = os.environ.get("LEADGUARD_TRANSCRIPT_RETENTION_DAYS", "")
    if not raw:
        return DEFAULT_RETENTION_DAYS
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if days < 1:
        raise TranscriptStoreError(
            "LEADGUARD_TRANSCRIPT_RETENTION_DAYS: must be a whole number >= 1"
        )
    return days


def _driver_url(url: str) -> str:
    """Pick the PostgreSQL driver this environment has (psycopg2 or psycopg)."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.startswith("postgres"):
        return url
    try:
        import psycopg2  # noqa: F401

        return f"postgresql+psycopg2://{rest}"
    except ImportError:
        return f"postgresql+psycopg://{rest}"


def make_engine(url: str) -> Engine:
    """Create an engine that never puts bound values into errors or logs."""
    url = _driver_url(url)
    if not url.startswith("sqlite"):
        return create_engine(url, hide_parameters=True, pool_pre_ping=True, future=True)
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # A pool (SQLAlchemy 1.4 would open a new connection per operation).
    engine = create_engine(
        url,
        hide_parameters=True,
        future=True,
        poolclass=QueuePool,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL never corrupts the file; a power cut may lose
        # the last turns written (fsync at checkpoints, not every commit).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class TranscriptRepository:
    """Reads and writes encrypted transcripts; knows nothing about Rasa.

    Args:
        keys: the store's keys (see :mod:`bot.transcript_keys`).
        url: a SQLAlchemy URL; SQLite and PostgreSQL are supported.
        retention_days: conversations untouched for longer are expired.
    """

    def __init__(
        self,
        keys: TranscriptKeys,
        url: str | None = None,
        retention_days: int = DEFAULT_RETENTION_DAYS,
    ) -> None:
        if not keys.encryption:
            raise TranscriptKeyError("the tracker store needs a key")
        self._keys = keys
        self._aead = AESGCM(keys.encryption)
        self.retention_seconds = retention_days * SECONDS_PER_DAY
        self.engine = make_engine(url or default_database_url())
        try:
            metadata.create_all(self.engine, checkfirst=True)
        except SQLAlchemyError as exc:
            raise TranscriptStoreError("cannot create the transcript table") from exc

    def __repr__(self) -> str:
        return f"TranscriptRepository(dialect={self.engine.dialect.name})"

    # -- encryption -------------------------------------------------------

    def _aad(self, sender_id: str) -> bytes:
        return AAD_PREFIX + sender_id.encode("utf-8")

    def encrypt(self, sender_id: str, document: Any) -> bytes:
        """Scrub and encrypt a JSON-ready transcript for ``sender_id``."""
        plaintext = json.dumps(scrub(document), separators=(",", ":")).encode()
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, self._aad(sender_id))
        return FORMAT_VERSION + nonce + sealed

    def decrypt(self, sender_id: str, blob: bytes) -> Any:
        """Decrypt a stored transcript.

        Raises:
            TranscriptDecryptionError: wrong key, wrong sender or tampering.
        """
        if len(blob) < 1 + NONCE_BYTES + 16 or blob[:1] != FORMAT_VERSION:
            raise TranscriptDecryptionError()
        nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            plaintext = self._aead.decrypt(nonce, sealed, self._aad(sender_id))
        except InvalidTag:
            raise TranscriptDecryptionError() from None
        return json.loads(plaintext)

    # -- rows ---------------------------------------------------------------

    def sender_key(self, sender_id: str) -> str:
        """Return the HMAC that stands for ``sender_id`` in the table."""
        return self._keys.sender_key(sender_id)

    def save(self, sender_id: str, document: Any, now: float | None = None) -> None:
        """Insert or replace the transcript of one conversation.

        Raises:
            TranscriptStoreError: the database refused the write.
        """
        now = time.time() if now is None else now
        key = self.sender_key(sender_id)
        blob = self.encrypt(sender_id, document)
        try:
            for _attempt in range(2):
                try:
                    with self.engine.begin() as connection:
                        changed = connection.execute(
                            update(transcripts)
                            .where(transcripts.c.sender_key == key)
                            .values(ciphertext=blob, updated_at=now)
                        ).rowcount
                        if not changed:
                            connection.execute(
                                insert(transcripts).values(
                                    sender_key=key,
                                    key_version=1,
                                    ciphertext=blob,
                                    created_at=now,
                                    updated_at=now,
                                )
                            )
                    return
                except IntegrityError:
                    continue  # another replica inserted first: update instead
        except SQLAlchemyError as exc:
            raise TranscriptStoreError("cannot write a transcript") from exc
        raise TranscriptStoreError("cannot write a transcript: conflicting inserts")

    def load(self, sender_id: str, now: float | None = None) -> Any | None:
        """Return the decrypted transcript, or ``None`` if absent or expired.

        An expired conversation is deleted on the way.

        Raises:
            TranscriptStoreError: the database could not be read.
            TranscriptDecryptionError: the row does not decrypt.
        """
        now = time.time() if now is None else now
        key = self.sender_key(sender_id)
        try:
            with self.engine.connect() as connection:
                row = connection.execute(
                    select(transcripts.c.ciphertext, transcripts.c.updated_at).where(
                        transcripts.c.sender_key == key
                    )
                ).first()
        except SQLAlchemyError as exc:
            raise TranscriptStoreError("cannot read a transcript") from exc
        if row is None:
            return None
        if row.updated_at < now - self.retention_seconds:
            self.delete([sender_id])
            log.info("transcript.expired_on_read")
            return None
        return self.decrypt(sender_id, bytes(row.ciphertext))

    def delete(self, sender_ids: Iterable[str]) -> int:
        """Delete the conversations of the given session ids; return how many."""
        keys = [self.sender_key(s) for s in sender_ids]
        if not keys:
            return 0
        try:
            with self.engine.begin() as connection:
                removed = connection.execute(
                    delete(transcripts).where(transcripts.c.sender_key.in_(keys))
                ).rowcount
        except SQLAlchemyError as exc:
            raise TranscriptStoreError("cannot delete transcripts") from exc
        log.info("transcript.deleted count=%s", removed)
        return int(removed or 0)

    def purge_expired(self, now: float | None = None) -> int:
        """Delete every conversation past its retention; return how many."""
        now = time.time() if now is None else now
        cutoff = now - self.retention_seconds
        try:
            with self.engine.begin() as connection:
                removed = connection.execute(
                    delete(transcripts).where(transcripts.c.updated_at < cutoff)
                ).rowcount
        except SQLAlchemyError as exc:
            raise TranscriptStoreError("cannot purge transcripts") from exc
        log.info("transcript.purged count=%s", removed)
        return int(removed or 0)

    def count(self) -> int:
        """Return how many conversations are stored."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(transcripts.c.sender_key)).fetchall()
        return len(rows)

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()
