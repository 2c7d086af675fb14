"""Requests a visitor can make at any time: a human, or erasure of their data.

Both are rows the console's queues show: a :class:`~leads.models.CallbackRequest`
for the sales queue and a :class:`~leads.models.PrivacyRequest` of kind
``erasure`` for the privacy officer (the erasure itself is the privacy
module's job). Each names the chat session and, when a lead was captured in
this session, the lead.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from actions import texts
from actions.submission import clear_personal_slots
from actions.vault_access import get_vault
from leads.audit import record_audit
from leads.errors import LeadguardError
from leads.models import CallbackRequest, PrivacyRequest

log = logging.getLogger(__name__)


def captured_lead_id(tracker: Tracker) -> uuid.UUID | None:
    """Return the lead captured in this session, if any."""
    raw = tracker.get_slot("lead_id")
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None


def request_callback(tracker: Tracker) -> int:
    """Open a callback request for this session (once); return its id."""
    vault = get_vault()
    with vault.sessions.begin() as session:
        existing = session.scalar(
            select(CallbackRequest.id)
            .where(CallbackRequest.chat_session_id == tracker.sender_id)
            .where(CallbackRequest.status == "open")
        )
        if existing is not None:
            return int(existing)
        request = CallbackRequest(
            lead_id=captured_lead_id(tracker), chat_session_id=tracker.sender_id
        )
        session.add(request)
        session.flush()
        record_audit(
            session,
            actor="chat",
            action="callback.requested",
            target_id=str(request.id),
        )
        return int(request.id)


def request_erasure(tracker: Tracker) -> int:
    """Record an erasure request for this session; return its id."""
    vault = get_vault()
    with vault.sessions.begin() as session:
        request = PrivacyRequest(
            kind="erasure",
            channel="chat",
            lead_id=captured_lead_id(tracker),
            chat_session_id=tracker.sender_id,
        )
        session.add(request)
        session.flush()
        record_audit(
            session,
            actor="chat",
            action="privacy.erasure_requested",
            target_id=str(request.id),
        )
        return int(request.id)


class ActionRequestHuman(Action):
    """Put this session in the sales team's callback queue."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_request_human"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """Create (or reuse) the callback request and tell the visitor."""
        try:
            request_callback(tracker)
        except (LeadguardError, SQLAlchemyError) as exc:
            log.error("callback.request_failed error=%s", type(exc).__name__)
            dispatcher.utter_message(text=texts.GENERIC_ERROR)
            return []
        log.info("callback.requested")
        message = texts.HUMAN_REQUESTED
        if captured_lead_id(tracker) is None and tracker.active_loop_name is None:
            message += texts.HUMAN_NEEDS_DETAILS
        dispatcher.utter_message(text=message)
        return []


class ActionRequestErasure(Action):
    """Record an erasure request and drop the form's answers."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "action_request_erasure"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """Record the request, stop any form and clear its slots."""
        stop_form = [ActiveLoop(None), SlotSet("requested_slot", None)]
        try:
            reference = request_erasure(tracker)
        except (LeadguardError, SQLAlchemyError) as exc:
            log.error("erasure.request_failed error=%s", type(exc).__name__)
            dispatcher.utter_message(text=texts.GENERIC_ERROR)
            return stop_form
        log.info("erasure.requested")
        dispatcher.utter_message(
            text=texts.ERASURE_RECORDED.format(reference=f"E-{reference}")
        )
        return [*stop_form, *clear_personal_slots(), SlotSet("may_collect", None)]
