"""Hand a completed lead form to the vault, then forget the answers.

One transaction writes the lead, its sealed fields, the link from this chat
session to the lead (which makes the session's consent records the lead's),
the ``lead.qualified`` outbox event and the audit event. The personal slots
are emptied afterwards, so the rest of the conversation carries none of
them.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions import texts
from actions.field_parsing import is_free_mail
from actions.lead_form import FORM_FIELDS, PHONE_SKIPPED
from actions.vault_access import get_vault
from leads.errors import LeadguardError
from leads.models import Tier
from leads.scoring import score_lead
from leads.settings import get_settings
from leads.vault import LeadInput

log = logging.getLogger(__name__)

CLEARED_SLOTS = (*FORM_FIELDS, "freemail_offered")


def clear_personal_slots() -> list[dict[str, Any]]:
    """Return the events that empty every field of the lead form."""
    return [SlotSet(slot, None) for slot in CLEARED_SLOTS]


def lead_from_slots(tracker: Tracker) -> LeadInput:
    """Build the vault's input from the form's slots."""
    phone = tracker.get_slot("phone")
    return LeadInput(
        name=str(tracker.get_slot("name") or ""),
        email=str(tracker.get_slot("email") or ""),
        company=str(tracker.get_slot("company") or ""),
        job_title=str(tracker.get_slot("job_title") or ""),
        need=tracker.get_slot("need"),
        phone=None if phone in (None, PHONE_SKIPPED) else str(phone),
        company_size=tracker.get_slot("company_size"),
        timeline=tracker.get_slot("timeline"),
        budget=tracker.get_slot("budget"),
        time_zone=get_settings().default_time_zone,
    )


def capture(tracker: Tracker) -> uuid.UUID:
    """Score the lead and write it through the vault in one transaction.

    Raises:
        InvalidInputError: a field is invalid; nothing was written.
        LeadguardError, SQLAlchemyError: the vault could not write.
    """
    lead = lead_from_slots(tracker)
    scored = score_lead(
        company_size=lead.company_size,
        timeline=lead.timeline,
        budget=lead.budget,
        job_title=lead.job_title,
        free_mail=is_free_mail(lead.email),
    )
    vault = get_vault()
    with vault.sessions.begin() as session:
        result = vault.capture_lead(
            session,
            lead,
            score=scored.score,
            tier=scored.tier,
            source="chat",
            chat_session_id=tracker.sender_id,
            qualified=scored.tier != Tier.DISQUALIFIED.value,
            actor="chat",
        )
    return result.lead_id


class ActionSubmitLead(Action):
    """Store the completed lead and clear the form's slots."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_submit_lead"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """Capture the lead; on failure keep the answers and say so."""
        if tracker.get_slot("may_collect") is not True:
            log.warning("lead.submit_refused reason=no_consent")
            dispatcher.utter_message(text=texts.CONSENT_NONE)
            return clear_personal_slots()
        try:
            # The vault's transaction runs in a thread so the action server
            # keeps answering other conversations meanwhile.
            lead_id = await asyncio.to_thread(capture, tracker)
        except (LeadguardError, SQLAlchemyError) as exc:
            log.error("lead.submit_failed error=%s", type(exc).__name__)
            dispatcher.utter_message(text=texts.SUBMIT_FAILED)
            return []
        dispatcher.utter_message(text=texts.SUBMITTED)
        return [*clear_personal_slots(), SlotSet("lead_id", str(lead_id))]
