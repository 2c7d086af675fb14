"""The opening and the answer to privacy questions (they link the notice)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import texts
from leads.notices import current_notice
from leads.settings import get_settings


def notice_url() -> str:
    """Return the public address of the privacy notice page."""
    return get_settings().public_base_url.rstrip("/") + "/privacy/notice"


class ActionIntroduce(Action):
    """Say what the assistant is, what it is for, and link the notice."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_introduce"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """Greet, link the current notice and offer the next steps."""
        notice = current_notice()
        dispatcher.utter_message(text=texts.ASSISTANT_PURPOSE)
        dispatcher.utter_message(
            text=texts.notice_line(notice, notice_url()) + "\n" + texts.WHAT_NEXT,
            buttons=[texts.START_BUTTON, texts.PRIVACY_BUTTON, texts.HUMAN_BUTTON],
        )
        return [SlotSet("notice_version", notice.version)]


class ActionPrivacyInfo(Action):
    """Answer "what data do you keep and why" (also in the middle of a form)."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_privacy_info"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """Summarise what is kept, why and for how long; link the notice."""
        notice = current_notice()
        days = get_settings().transcript_retention_days
        dispatcher.utter_message(text=texts.privacy_summary(notice, notice_url(), days))
        return [SlotSet("notice_version", notice.version)]
