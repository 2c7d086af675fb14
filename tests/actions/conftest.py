"""Fixtures for action tests: a real vault and real rasa_sdk trackers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import vault_access
from leads.migrate import upgrade
from leads.settings import Settings
from leads.vault import Vault
from tests.conftest import make_settings

DOMAIN_FILE = Path(__file__).resolve().parents[2] / "bot" / "domain.yml"


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The bot's domain, as rasa_sdk receives it."""
    loaded: dict[str, Any] = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
def action_settings(tmp_path: Path) -> Settings:
    """Migrated SQLite settings for the actions' vault."""
    made = make_settings(tmp_path / "var")
    upgrade(made.database_url)
    return made


@pytest.fixture
def vault(action_settings: Settings) -> Iterator[Vault]:
    """The vault the actions write to (replaces the process-wide one)."""
    opened = Vault.from_settings(action_settings)
    vault_access._vault = opened
    yield opened
    vault_access.reset_vault()


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    """A real dispatcher collecting what the action says."""
    return CollectingDispatcher()


def make_tracker(
    *,
    text: str = "",
    intent: str = "inform",
    slots: dict[str, Any] | None = None,
    new_slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
    active_loop: str | None = "lead_form",
    requested_slot: str | None = None,
    sender_id: str = "chat-session-0001",
) -> Tracker:
    """A tracker as Rasa sends it after the visitor's latest message.

    ``slots`` were set before the message; ``new_slots`` were set by Rasa's
    slot mappings after it (what the form's validation sees).
    """
    before = dict(slots or {})
    if requested_slot is not None:
        before["requested_slot"] = requested_slot
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99},
        "entities": entities or [],
        "metadata": metadata or {},
    }
    events: list[dict[str, Any]] = [
        {"event": "slot", "name": name, "value": value}
        for name, value in before.items()
    ]
    events.append({"event": "user", "text": text, "parse_data": latest})
    events += [
        {"event": "slot", "name": name, "value": value}
        for name, value in (new_slots or {}).items()
    ]
    return Tracker(
        sender_id,
        {**before, **(new_slots or {})},
        latest,
        events,
        False,
        None,
        {"name": active_loop} if active_loop else {},
        "action_listen",
    )


def texts_of(dispatcher: CollectingDispatcher) -> list[str]:
    """What the action said."""
    return [str(message.get("text") or "") for message in dispatcher.messages]


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The slots an action set, by name."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
