"""What the visitor's latest message says, read from a rasa_sdk tracker."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from bot.redaction import PLACEHOLDER_PATTERN

METADATA_KEY = "leadguard"


def latest_intent(tracker: Tracker) -> str | None:
    """Return the intent of the latest message, or None."""
    intent = tracker.latest_message.get("intent") or {}
    name = intent.get("name")
    return str(name) if name else None


def latest_text(tracker: Tracker) -> str:
    """Return the latest message's text (already redacted by the channel)."""
    return str(tracker.latest_message.get("text") or "")


def entity_value(tracker: Tracker, entity: str) -> str | None:
    """Return the first value of ``entity`` in the latest message."""
    entities: list[dict[str, Any]] = tracker.latest_message.get("entities") or []
    for found in entities:
        if found.get("entity") == entity and found.get("value"):
            return str(found["value"])
    return None


def redacted_kinds(tracker: Tracker) -> list[str]:
    """Return the kinds of numbers the channel removed from the latest message.

    Falls back to the placeholders in the text when the metadata is missing
    (a message that reached Rasa some other way).
    """
    metadata = tracker.latest_message.get("metadata") or {}
    ours = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
    kinds = ours.get("redacted") if isinstance(ours, dict) else None
    if isinstance(kinds, list) and kinds:
        return [str(kind) for kind in kinds]
    found = PLACEHOLDER_PATTERN.findall(latest_text(tracker))
    names = {
        "[card number removed]": "card",
        "[MyKad number removed]": "mykad",
        "[passport number removed]": "passport",
        "[bank account number removed]": "bank_account",
    }
    ordered: list[str] = []
    for placeholder in found:
        kind = names.get(placeholder)
        if kind and kind not in ordered:
            ordered.append(kind)
    return ordered


def without_placeholders(value: str) -> str:
    """Remove redaction placeholders from a slot value."""
    return " ".join(PLACEHOLDER_PATTERN.sub(" ", value).split())


def value_before_latest_message(tracker: Tracker, slot: str) -> Any:
    """Return what ``slot`` held before the visitor's latest message."""
    events: list[dict[str, Any]] = list(tracker.events or [])
    users = [i for i, event in enumerate(events) if event.get("event") == "user"]
    if not users:
        return None
    for event in reversed(events[: users[-1]]):
        if event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None
