"""Answers to what people say between questions: why, skip, stop, pasted numbers.

They never fill a form field themselves (except a skipped optional phone)
and leave the form where it was, so the form asks its question again.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import texts
from actions.lead_form import PHONE_SKIPPED
from actions.message_facts import redacted_kinds
from bot.redaction import describe

OPTIONAL_FIELDS = frozenset({"phone"})


class ActionExplainField(Action):
    """Say why the question being asked is needed."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_explain_field"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """Explain the requested field, or what is collected in general."""
        requested = tracker.get_slot("requested_slot")
        dispatcher.utter_message(text=texts.WHY.get(str(requested), texts.WHY_GENERAL))
        return []


class ActionHandleSkip(Action):
    """Skip an optional field; explain that a required one is needed."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_handle_skip"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """Mark the phone as skipped, or say the field is required."""
        requested = tracker.get_slot("requested_slot")
        if tracker.active_loop_name is None or not requested:
            dispatcher.utter_message(text=texts.NOTHING_TO_SKIP)
            return []
        if requested in OPTIONAL_FIELDS:
            dispatcher.utter_message(text=texts.SKIPPED)
            return [SlotSet(requested, PHONE_SKIPPED)]
        dispatcher.utter_message(text=texts.REQUIRED)
        return []


class ActionStopForm(Action):
    """Stop asking; keep the answers for this session so it can resume."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_stop_form"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """Deactivate the form.

        Answers already given stay in this (encrypted, expiring) session so
        that "continue" picks up where the visitor stopped; nothing reaches
        the vault until the form is complete.
        """
        if tracker.active_loop_name is None:
            dispatcher.utter_message(text=texts.NOTHING_TO_STOP)
        else:
            dispatcher.utter_message(text=texts.STOPPED)
        return [ActiveLoop(None), SlotSet("requested_slot", None)]


class ActionSensitiveNotice(Action):
    """Tell the visitor a sensitive number was removed from their message."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_sensitive_notice"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """Name the kinds removed (from the channel's metadata)."""
        dispatcher.utter_message(
            text=texts.sensitive_removed(describe(redacted_kinds(tracker)))
        )
        return []
