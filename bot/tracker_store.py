"""The encrypted Rasa tracker store (``endpoints.yml``).

.. code-block:: yaml

    tracker_store:
      type: bot.tracker_store.EncryptedSQLTrackerStore

Each conversation is one row of :mod:`bot.transcript_repository`: scrubbed
of sensitive numbers, encrypted with AES-256-GCM bound to the session id,
stored under an HMAC of the session id, expired after
``LEADGUARD_TRANSCRIPT_RETENTION_DAYS`` (default 30). The database is
``LEADGUARD_TRACKER_DB_URL`` (PostgreSQL in production) or
``$LEADGUARD_VAR_DIR/tracker.db``.

Rasa wraps every tracker store in a fail-safe wrapper that turns a failing
``save`` into an in-memory save and a failing ``retrieve`` into a new, empty
conversation, with only a log line. This store therefore remembers, per
session id, that an operation failed; :mod:`bot.channel` asks
:meth:`EncryptedSQLTrackerStore.take_failure` after every message and
answers 503 instead of a reply built on a lost conversation. The channel
also refuses to serve (and stops the server) when the agent's store is not
this class, which is what happens when Rasa cannot import it.

Depends only on Rasa, ``cryptography`` and the standard library.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Iterable
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import (
    DialogueStateTracker,
    get_trackers_for_conversation_sessions,
)

from bot.transcript_keys import load_keys_from_env
from bot.transcript_repository import TranscriptRepository, retention_days_from_env

log = logging.getLogger(__name__)


@functools.cache
def _event_class(type_name: str) -> type[Event] | None:
    """Rasa's event class for a type name, looked up once per name."""
    return Event.resolve_by_type(type_name)


def deserialise_events(serialised: list[dict[str, Any]]) -> list[Event]:
    """Rebuild Rasa events from their dictionaries.

    The same result as ``rasa.shared.core.events.deserialise_events``, which
    walks every subclass of ``Event`` for every event (measured: most of the
    time of loading a long conversation).

    Raises:
        ValueError: an event type Rasa does not know.
    """
    events = []
    for data in serialised:
        type_name = data.get("event")
        event_class = _event_class(type_name) if type_name else None
        event = event_class._from_parameters(data) if event_class else None
        if event is not None:
            events.append(event)
    return events


class EncryptedSQLTrackerStore(TrackerStore):
    """A Rasa tracker store that keeps only encrypted conversations.

    Args:
        domain: the assistant's domain.
        host: ignored (Rasa passes the endpoint's ``url``); use ``db_url``.
        event_broker: must be ``None``: a broker would publish messages in
            clear.
        db_url: overrides ``LEADGUARD_TRACKER_DB_URL``.
        retention_days: overrides ``LEADGUARD_TRANSCRIPT_RETENTION_DAYS``.

    Raises:
        TranscriptKeyError: no key ring is configured (the store never runs
            without a key).
        TranscriptStoreError: the database cannot be reached or set up.
        ValueError: an event broker was configured.
    """

    is_leadguard_encrypted = True

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        db_url: str | None = None,
        retention_days: int | None = None,
        **kwargs: Any,
    ) -> None:
        if event_broker is not None:
            raise ValueError(
                "EncryptedSQLTrackerStore refuses an event broker: it would "
                "publish conversation text in clear"
            )
        self.repository = TranscriptRepository(
            load_keys_from_env(),
            db_url,
            retention_days or retention_days_from_env(),
        )
        self._failures: set[str] = set()
        self._failures_lock = threading.Lock()
        super().__init__(domain, None, **kwargs)
        log.info(
            "tracker_store.ready class=%s dialect=%s retention_days=%s",
            type(self).__name__,
            self.repository.engine.dialect.name,
            self.repository.retention_seconds // 86_400,
        )

    # -- failure reporting --------------------------------------------------

    def _record_failure(self, sender_id: str, operation: str, exc: Exception) -> None:
        with self._failures_lock:
            self._failures.add(sender_id)
        log.error(
            "tracker_store.failed operation=%s error=%s",
            operation,
            type(exc).__name__,
        )

    def take_failure(self, sender_id: str) -> bool:
        """Return whether an operation for ``sender_id`` failed, and forget it."""
        with self._failures_lock:
            if sender_id in self._failures:
                self._failures.discard(sender_id)
                return True
        return False

    # -- TrackerStore -------------------------------------------------------

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Scrub, encrypt and store the whole conversation.

        Raises:
            TranscriptStoreError: the database refused the write (also
                remembered for :meth:`take_failure`).
        """
        events = [event.as_dict() for event in tracker.events]
        try:
            # Database work runs in a thread: Rasa's event loop keeps serving
            # other conversations meanwhile.
            await asyncio.to_thread(
                self.repository.save, tracker.sender_id, {"events": events}
            )
        except Exception as exc:
            self._record_failure(tracker.sender_id, "save", exc)
            raise

    def _load(self, sender_id: str) -> DialogueStateTracker | None:
        try:
            document = self.repository.load(sender_id)
        except Exception as exc:
            self._record_failure(sender_id, "retrieve", exc)
            raise
        if not document or not document.get("events"):
            return None
        return DialogueStateTracker.from_events(
            sender_id, deserialise_events(document["events"]), self.domain.slots
        )

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """Return the latest session of a conversation, or ``None``.

        Raises:
            TranscriptStoreError, TranscriptDecryptionError: the row cannot
                be read (also remembered for :meth:`take_failure`).
        """
        tracker = await asyncio.to_thread(self._load, sender_id)
        if tracker is None:
            return None
        sessions = get_trackers_for_conversation_sessions(tracker)
        return sessions[-1] if len(sessions) > 1 else tracker

    async def retrieve_full_tracker(
        self, conversation_id: str
    ) -> DialogueStateTracker | None:
        """Return every session of a conversation, or ``None``."""
        return await asyncio.to_thread(self._load, conversation_id)

    async def exists(self, conversation_id: str) -> bool:
        """Return whether a (non-expired) conversation is stored."""
        return await asyncio.to_thread(self._load, conversation_id) is not None

    async def keys(self) -> Iterable[str]:
        """Return nothing: only HMACs of session ids are stored.

        Listing conversations would need the raw ids, which this store
        deliberately does not keep.
        """
        return []

    async def delete(self, sender_id: str) -> int:
        """Delete one conversation; return how many rows went (0 or 1)."""
        return await asyncio.to_thread(self.repository.delete, [sender_id])

    def purge_expired(self) -> int:
        """Delete every conversation past its retention; return how many."""
        return self.repository.purge_expired()
