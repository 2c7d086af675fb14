"""Checks of the Rasa-side modules, run by Rasa's own Python (3.10).

The test suite runs under Python 3.11 without Rasa, so
``tests/bot/test_tracker_store.py`` starts this script with
``.venv-rasa/bin/python`` and asserts each check's outcome. Each check
prints one JSON line: ``{"check": name, "ok": bool, "detail": str}``.

Usage: ``rasa_checks.py <work dir>`` (with the repository root on
``PYTHONPATH`` and ``LEADGUARD_KEYRING_FILE`` naming a test key ring).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
import time
import traceback
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace

warnings.simplefilter("ignore")

from rasa.core.tracker_store import (  # noqa: E402
    FailSafeTrackerStore,
    InMemoryTrackerStore,
    TrackerStore,
)
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered  # noqa: E402
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402
from rasa.utils.endpoints import EndpointConfig  # noqa: E402

from bot.channel import encrypted_store_of, verify_encrypted_store  # noqa: E402
from bot.errors import TranscriptKeyError  # noqa: E402
from bot.tracker_store import EncryptedSQLTrackerStore  # noqa: E402

CARD = "4111 1111 1111 1111"
EMAIL = "canary.rasa@example-corp.my"
DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet]
slots:
  email:
    type: text
    mappings: [{type: custom}]
"""
)

Check = Callable[[Path], Awaitable[str]]
CHECKS: dict[str, Check] = {}


def check(function: Check) -> Check:
    """Register a check under its function name."""
    CHECKS[function.__name__] = function
    return function


def conversation(sender: str) -> DialogueStateTracker:
    """A small conversation holding an email and a card number."""
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered(f"my email is {EMAIL}, card {CARD}", {"name": "greet"}))
    tracker.update(SlotSet("email", EMAIL))
    return tracker


def store_at(work: Path, name: str, **kwargs: object) -> EncryptedSQLTrackerStore:
    """An encrypted store on its own SQLite file."""
    return EncryptedSQLTrackerStore(
        domain=DOMAIN, db_url=f"sqlite:///{work / name}", **kwargs
    )


@check
async def round_trip(work: Path) -> str:
    """What was saved comes back, with the card number scrubbed."""
    store = store_at(work, "round_trip.db")
    await store.save(conversation("session-a"))
    loaded = await store.retrieve("session-a")
    assert loaded is not None, "nothing retrieved"
    assert loaded.get_slot("email") == EMAIL, "slot lost"
    text = loaded.latest_message.text or ""
    assert CARD not in text and "[card number removed]" in text, "card kept"
    assert await store.retrieve("session-b") is None, "unknown sender found"

    from rasa.shared.core.events import deserialise_events as rasa_deserialise

    from bot.tracker_store import deserialise_events

    dicts = [event.as_dict() for event in conversation("x").events]
    ours = [event.as_dict() for event in deserialise_events(dicts)]
    assert ours == [event.as_dict() for event in rasa_deserialise(dicts)]
    return "ok"


@check
async def database_holds_no_plaintext(work: Path) -> str:
    """The SQLite file holds neither the email, the card nor the sender id."""
    store = store_at(work, "canary.db")
    await store.save(conversation("sender-canary-123"))
    store.repository.close()
    raw = b"".join(p.read_bytes() for p in work.glob("canary.db*") if p.is_file())
    for secret in (EMAIL, CARD, CARD.replace(" ", ""), "sender-canary-123"):
        assert secret.encode() not in raw, f"plaintext found: {secret[:6]}..."
    return "ok"


@check
async def retention_expires_on_read(work: Path) -> str:
    """A conversation older than the retention is gone on the next read."""
    store = store_at(work, "retention.db", retention_days=1)
    await store.save(conversation("old"))
    store.repository.save("old", {"events": []}, now=time.time() - 2 * 86_400)
    assert await store.retrieve("old") is None, "expired conversation returned"
    assert store.repository.count() == 0, "expired row not deleted"
    return "ok"


@check
async def delete_by_sender(work: Path) -> str:
    """``delete`` removes one conversation and leaves the others."""
    store = store_at(work, "delete.db")
    await store.save(conversation("keep"))
    await store.save(conversation("drop"))
    assert await store.delete("drop") == 1, "nothing deleted"
    assert await store.retrieve("drop") is None, "deleted conversation returned"
    assert await store.retrieve("keep") is not None, "other conversation lost"
    return "ok"


@check
async def failing_save_is_reported(work: Path) -> str:
    """Behind Rasa's fail-safe wrapper a failed save is still reported."""
    store = store_at(work, "failing.db")
    wrapped = FailSafeTrackerStore(store)
    connection = sqlite3.connect(work / "failing.db")
    connection.execute("DROP TABLE leadguard_transcripts")
    connection.commit()
    connection.close()
    await wrapped.save(conversation("lost"))  # the wrapper swallows the error
    assert store.take_failure("lost"), "failure not recorded"
    assert not store.take_failure("lost"), "failure reported twice"
    assert await wrapped.retrieve("lost") is None
    assert store.take_failure("lost"), "failed retrieve not recorded"
    return "ok"


@check
async def tampered_row_is_reported(work: Path) -> str:
    """A modified ciphertext fails loudly instead of starting afresh."""
    store = store_at(work, "tamper.db")
    await store.save(conversation("victim"))
    connection = sqlite3.connect(work / "tamper.db")
    blob = bytearray(
        connection.execute("SELECT ciphertext FROM leadguard_transcripts").fetchone()[0]
    )
    blob[-1] ^= 0x01
    connection.execute(
        "UPDATE leadguard_transcripts SET ciphertext = ?", (bytes(blob),)
    )
    connection.commit()
    connection.close()
    wrapped = FailSafeTrackerStore(store)
    assert await wrapped.retrieve("victim") is None
    assert store.take_failure("victim"), "tampering not reported"
    return "ok"


@check
async def refuses_an_event_broker(work: Path) -> str:
    """An event broker would publish messages in clear: refused."""
    try:
        store_at(work, "broker.db", event_broker=object())
    except ValueError:
        return "ok"
    raise AssertionError("event broker accepted")


@check
async def refuses_to_run_without_a_key_ring(work: Path) -> str:
    """No ring, no store: never a random or empty key."""
    saved = os.environ.pop("LEADGUARD_KEYRING_FILE")
    os.environ["LEADGUARD_VAR_DIR"] = str(work / "empty")
    try:
        store_at(work, "nokey.db")
    except TranscriptKeyError:
        return "ok"
    finally:
        os.environ["LEADGUARD_KEYRING_FILE"] = saved
    raise AssertionError("store started without a key ring")


@check
async def endpoint_config_loads_the_encrypted_store(work: Path) -> str:
    """``endpoints.yml``'s type string builds this class, not a fallback."""
    os.environ["LEADGUARD_TRACKER_DB_URL"] = f"sqlite:///{work / 'endpoint.db'}"
    try:
        config = EndpointConfig(type="bot.tracker_store.EncryptedSQLTrackerStore")
        created = TrackerStore.create(config, DOMAIN)
    finally:
        del os.environ["LEADGUARD_TRACKER_DB_URL"]
    app = SimpleNamespace(
        ctx=SimpleNamespace(
            agent=SimpleNamespace(tracker_store=FailSafeTrackerStore(created))
        )
    )
    assert encrypted_store_of(app) is not None, "encrypted store not found"
    assert verify_encrypted_store(app), "verification failed"
    return "ok"


@check
async def fallback_store_is_detected(work: Path) -> str:
    """A type Rasa cannot import falls back to memory: the channel refuses it."""
    config = EndpointConfig(type="bot.tracker_store.NoSuchStore")
    created = TrackerStore.create(config, DOMAIN)
    assert isinstance(created, InMemoryTrackerStore), type(created).__name__
    app = SimpleNamespace(
        ctx=SimpleNamespace(
            agent=SimpleNamespace(tracker_store=FailSafeTrackerStore(created))
        )
    )
    assert encrypted_store_of(app) is None, "fallback store accepted"
    assert not verify_encrypted_store(app), "fallback store verified"
    return "ok"


@check
async def action_answers_are_still_validated(work: Path) -> str:
    """The compiled schema check accepts good answers and rejects bad ones."""
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction

    from bot import action_validation

    assert action_validation.install(), "not installed"
    action = RemoteAction("action_x", None)
    good = {"events": [{"event": "slot", "name": "a", "value": 1}], "responses": []}
    assert action._validate_action_result(good) is True
    for bad in ({"events": [{"event": "no_such_event"}]}, {"responses": "text"}):
        try:
            action._validate_action_result(bad)
        except ValidationError as exc:
            assert "Failed to validate Action server response" in exc.message
        else:
            raise AssertionError(f"accepted {bad}")
    return "ok"


async def main(work: Path) -> int:
    """Run every check; print one JSON line per check."""
    failures = 0
    for name, function in CHECKS.items():
        try:
            detail = await function(work)
            ok = True
        except Exception as exc:
            ok, detail = False, f"{type(exc).__name__}: {exc}"
            traceback.print_exc(file=sys.stderr)
            failures += 1
        print(json.dumps({"check": name, "ok": ok, "detail": detail}), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(Path(sys.argv[1]))))
