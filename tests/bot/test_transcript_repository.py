"""Encrypted transcripts from the application's side (SQLAlchemy 2)."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import tracker_admin
from bot.errors import TranscriptDecryptionError, TranscriptKeyError
from bot.transcript_keys import TranscriptKeys, load_keys_from_env
from bot.transcript_repository import TranscriptRepository
from leads.keyring import load_keyring_file
from tests.conftest import create_pg_database, drop_pg_database, make_settings

EMAIL = "canary.transcript@example-corp.my"
NAME = "Canary Transcriptson"
CARD = "4111 1111 1111 1111"


def document() -> dict[str, object]:
    return {
        "events": [
            {"event": "user", "text": f"I'm {NAME}, {EMAIL}, card {CARD}"},
            {"event": "slot", "name": "email", "value": EMAIL},
        ]
    }


@pytest.fixture
def keyring_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    var = tmp_path / "var"
    make_settings(var)
    monkeypatch.setenv("LEADGUARD_VAR_DIR", str(var))
    monkeypatch.setenv("LEADGUARD_KEYRING_FILE", str(var / "keyring.json"))
    monkeypatch.delenv("LEADGUARD_TRACKER_DB_URL", raising=False)
    return var


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def repository(
    request: pytest.FixtureRequest, keyring_env: Path
) -> Iterator[TranscriptRepository]:
    if request.param == "sqlite":
        repo = TranscriptRepository(load_keys_from_env())
        yield repo
        repo.close()
        return
    url = create_pg_database("lg_bot")
    repo = TranscriptRepository(load_keys_from_env(), url)
    yield repo
    repo.close()
    drop_pg_database(url)


def test_keys_match_the_application_key_ring(keyring_env: Path) -> None:
    ring = load_keyring_file(keyring_env / "keyring.json")
    keys = load_keys_from_env()
    assert keys.encryption == ring.derive("tracker-store")
    assert keys.sender_index == ring.derive("tracker-store/sender-index")
    assert ring.derive("tracker-store").hex() not in repr(keys)
    assert str(ring.derive("tracker-store")) not in repr(keys)


def test_round_trip_scrubs_the_card(repository: TranscriptRepository) -> None:
    repository.save("session-1", document())
    loaded = repository.load("session-1")
    assert loaded["events"][1]["value"] == EMAIL
    assert CARD not in loaded["events"][0]["text"]
    assert "[card number removed]" in loaded["events"][0]["text"]


def test_rows_are_keyed_by_hmac_not_by_session_id(
    repository: TranscriptRepository,
) -> None:
    from sqlalchemy import select

    from bot.transcript_repository import transcripts

    repository.save("session-visible", document())
    with repository.engine.connect() as connection:
        keys = list(connection.execute(select(transcripts.c.sender_key)).scalars())
    assert keys == [repository.sender_key("session-visible")]
    assert "session-visible" not in keys[0]


def test_a_row_moved_to_another_session_does_not_decrypt(
    repository: TranscriptRepository,
) -> None:
    blob = repository.encrypt("session-a", document())
    with pytest.raises(TranscriptDecryptionError):
        repository.decrypt("session-b", blob)


def test_a_tampered_row_does_not_decrypt(repository: TranscriptRepository) -> None:
    blob = bytearray(repository.encrypt("session-a", document()))
    blob[20] ^= 0x80
    with pytest.raises(TranscriptDecryptionError):
        repository.decrypt("session-a", bytes(blob))


def test_a_wrong_key_ring_does_not_decrypt(repository: TranscriptRepository) -> None:
    blob = repository.encrypt("session-a", document())
    other = TranscriptRepository(
        TranscriptKeys(os.urandom(32), os.urandom(32)),
        str(repository.engine.url.render_as_string(hide_password=False)),
    )
    try:
        with pytest.raises(TranscriptDecryptionError):
            other.decrypt("session-a", blob)
    finally:
        other.close()


def test_retention_on_read_and_by_purge(repository: TranscriptRepository) -> None:
    now = time.time()
    repository.save("fresh", document(), now=now)
    repository.save("stale", document(), now=now - 31 * 86_400)
    repository.save("stale-2", document(), now=now - 40 * 86_400)
    assert repository.load("stale", now=now) is None
    assert repository.count() == 2
    assert repository.purge_expired(now=now) == 1
    assert repository.load("fresh", now=now) is not None
    assert repository.count() == 1


def test_delete_by_session_ids(repository: TranscriptRepository) -> None:
    for sender in ("a", "b", "c"):
        repository.save(sender, document())
    assert repository.delete(["a", "c", "missing"]) == 2
    assert repository.load("b") is not None
    assert repository.load("a") is None


def test_sqlite_file_holds_no_plaintext(keyring_env: Path) -> None:
    repo = TranscriptRepository(load_keys_from_env())
    for number in range(5):
        repo.save(f"canary-session-{number}", document())
    repo.delete(["canary-session-0"])
    repo.close()
    raw = b"".join(p.read_bytes() for p in keyring_env.glob("tracker.db*"))
    assert raw, "no database file written"
    for secret in (EMAIL, NAME, CARD, CARD.replace(" ", ""), "canary-session-1"):
        assert secret.encode() not in raw


def test_admin_functions_use_the_environment(keyring_env: Path) -> None:
    repo = tracker_admin.open_repository()
    repo.save("admin-session", document())
    repo.save("old-session", document(), now=time.time() - 90 * 86_400)
    repo.close()
    events = tracker_admin.export_conversation("admin-session")
    assert events[1]["value"] == EMAIL
    assert tracker_admin.export_conversation("nobody") == []
    assert tracker_admin.purge_expired() == 1
    assert tracker_admin.delete_conversations(["admin-session"]) == 1
    assert tracker_admin.export_conversation("admin-session") == []


def test_no_key_ring_means_no_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEADGUARD_KEYRING", raising=False)
    monkeypatch.setenv("LEADGUARD_KEYRING_FILE", str(tmp_path / "absent.json"))
    with pytest.raises(TranscriptKeyError, match="key ring not found"):
        load_keys_from_env()


def test_a_readable_key_ring_is_refused(keyring_env: Path) -> None:
    (keyring_env / "keyring.json").chmod(0o644)
    with pytest.raises(TranscriptKeyError, match="chmod 600"):
        load_keys_from_env()


def test_retention_setting_is_validated(
    keyring_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.errors import TranscriptStoreError

    monkeypatch.setenv("LEADGUARD_TRANSCRIPT_RETENTION_DAYS", "0")
    with pytest.raises(TranscriptStoreError, match="RETENTION_DAYS"):
        tracker_admin.open_repository()


def test_raw_sqlite_shows_only_hmac_and_ciphertext(keyring_env: Path) -> None:
    repo = TranscriptRepository(load_keys_from_env())
    repo.save("peek", document())
    repo.close()
    connection = sqlite3.connect(keyring_env / "tracker.db")
    row = connection.execute(
        "SELECT sender_key, ciphertext FROM leadguard_transcripts"
    ).fetchone()
    connection.close()
    assert len(row[0]) == 64 and row[0] != "peek"
    assert EMAIL.encode() not in row[1]
