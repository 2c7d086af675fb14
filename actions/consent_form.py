"""The two consent questions, recorded in the ledger the moment they are answered.

Each answer becomes a consent record naming the chat session (the opaque
sender id) and the exact notice version shown when the question was asked;
:meth:`leads.vault.Vault.capture_lead` later links the session to the lead
so the ledger follows it.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions import texts
from actions.introduction import notice_url
from actions.vault_access import get_vault
from leads.consent import ConsentAnswer, record_consent
from leads.errors import LeadguardError
from leads.models import Purpose
from leads.notices import current_notice

log = logging.getLogger(__name__)

SLOT_PURPOSES = {
    "consent_sales": Purpose.SALES_CONTACT,
    "consent_email": Purpose.EMAIL_NURTURE,
}


def shown_notice_version(tracker: Tracker) -> str:
    """Return the notice version the visitor was shown (the current one if none)."""
    shown = tracker.get_slot("notice_version")
    return str(shown) if shown else current_notice().version


def record_answer(tracker: Tracker, purpose: Purpose, granted: bool) -> None:
    """Append one consent answer for this chat session to the ledger.

    Raises:
        LeadguardError, SQLAlchemyError: the ledger could not be written.
    """
    answer = ConsentAnswer(
        purpose=purpose,
        granted=granted,
        notice_version=shown_notice_version(tracker),
        channel="chat",
    )
    vault = get_vault()
    with vault.sessions.begin() as session:
        record_consent(session, answer, chat_session_id=tracker.sender_id)
    log.info("consent.recorded purpose=%s granted=%s", purpose.value, granted)


class ActionAskConsentSales(Action):
    """Ask the sales-contact question, with the notice link and its version."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_ask_consent_sales"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """Ask, and remember which notice version was shown."""
        notice = current_notice()
        dispatcher.utter_message(
            text=texts.CONSENT_SALES + "\n" + texts.notice_line(notice, notice_url()),
            buttons=texts.YES_NO_BUTTONS,
        )
        return [SlotSet("notice_version", notice.version)]


class ActionAskConsentEmail(Action):
    """Ask the follow-up email question (a separate purpose)."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_ask_consent_email"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """Ask the second question."""
        dispatcher.utter_message(text=texts.CONSENT_EMAIL, buttons=texts.YES_NO_BUTTONS)
        return [SlotSet("notice_version", shown_notice_version(tracker))]


class ValidateConsentForm(FormValidationAction):
    """Record each consent answer immediately; re-ask if it cannot be recorded."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "validate_consent_form"

    def _validate(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        if not isinstance(value, bool):
            return {slot: None}
        try:
            record_answer(tracker, SLOT_PURPOSES[slot], value)
        except (LeadguardError, SQLAlchemyError) as exc:
            log.error("consent.record_failed error=%s", type(exc).__name__)
            dispatcher.utter_message(text=texts.GENERIC_ERROR)
            return {slot: None}
        return {slot: value}

    async def validate_consent_sales(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Record the sales-contact answer."""
        return self._validate("consent_sales", value, dispatcher, tracker)

    async def validate_consent_email(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Record the follow-up email answer."""
        return self._validate("consent_email", value, dispatcher, tracker)


class ActionConsentOutcome(Action):
    """Say what the answers allow and whether the lead form may start."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_consent_outcome"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """Set ``may_collect``; after two refusals forget the answers.

        The answers stay in the ledger; the slots are emptied so that a
        later "continue" asks again instead of reusing a refusal.
        """
        sales = tracker.get_slot("consent_sales") is True
        email = tracker.get_slot("consent_email") is True
        if sales and email:
            dispatcher.utter_message(text=texts.CONSENT_BOTH)
        elif sales:
            dispatcher.utter_message(text=texts.CONSENT_SALES_ONLY)
        elif email:
            dispatcher.utter_message(text=texts.CONSENT_EMAIL_ONLY)
        else:
            dispatcher.utter_message(text=texts.CONSENT_NONE)
            return [
                SlotSet("may_collect", False),
                SlotSet("consent_sales", None),
                SlotSet("consent_email", None),
            ]
        return [SlotSet("may_collect", True)]
