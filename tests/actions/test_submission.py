"""Submitting the lead form: one transaction through the vault, slots cleared."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.consent_form import ValidateConsentForm
from actions.submission import CLEARED_SLOTS, ActionSubmitLead
from leads.consent import consent_history
from leads.models import Lead, LeadChatSession, OutboxEvent
from leads.settings import Settings
from leads.vault import Vault
from tests.actions.conftest import make_tracker, slot_events, texts_of

SENDER = "opaque-session-7f3a"
FORM = {
    "name": "Nur Canary binti Test",
    "email": "nur.canary@acme-example.com.my",
    "company": "Acme Example Sdn Bhd",
    "job_title": "Head of Operations",
    "company_size": "51-200",
    "need": "A CRM for our field sales team",
    "timeline": "this_quarter",
    "budget": "50k_200k",
    "phone": "+60123456789",
}


async def give_consent(domain: dict[str, Any]) -> None:
    for slot, intent in (("consent_sales", "affirm"), ("consent_email", "affirm")):
        tracker = make_tracker(
            intent=intent,
            active_loop="consent_form",
            requested_slot=slot,
            slots={"notice_version": "1"},
            new_slots={slot: True},
            sender_id=SENDER,
        )
        await ValidateConsentForm().run(CollectingDispatcher(), tracker, domain)


async def submit(
    domain: dict[str, Any], dispatcher: CollectingDispatcher, **overrides: Any
) -> dict[str, Any]:
    slots = {**FORM, "may_collect": True, **overrides}
    tracker = make_tracker(active_loop=None, slots=slots, sender_id=SENDER)
    return slot_events(await ActionSubmitLead().run(dispatcher, tracker, domain))


async def test_a_completed_form_becomes_one_encrypted_lead(
    vault: Vault,
    action_settings: Settings,
    dispatcher: CollectingDispatcher,
    domain: dict[str, Any],
) -> None:
    await give_consent(domain)
    slots = await submit(domain, dispatcher)

    lead_id = uuid.UUID(slots["lead_id"])
    assert all(slots[name] is None for name in CLEARED_SLOTS)
    assert "passed your enquiry" in texts_of(dispatcher)[0]
    with vault.sessions() as session:
        fields = vault.read_personal(session, lead_id)
        lead = session.get(Lead, lead_id)
        links = list(session.scalars(select(LeadChatSession.chat_session_id)))
        history = consent_history(session, lead_id)
        topics = list(session.scalars(select(OutboxEvent.topic)))
    assert fields["email"] is not None and fields["email"].reveal() == FORM["email"]
    assert fields["name"] is not None and fields["name"].reveal() == FORM["name"]
    assert lead is not None and lead.tier == "hot" and lead.source == "chat"
    assert links == [SENDER]
    assert [(r.purpose, r.granted) for r in history] == [
        ("sales_contact", True),
        ("email_nurture", True),
    ]
    assert topics == ["lead.qualified"]

    database = Path(action_settings.database_url.split("///", 1)[1])
    raw = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    for value in (FORM["email"], FORM["name"], FORM["company"], "+60123456789"):
        assert value.encode() not in raw


async def test_nothing_is_written_without_consent(
    vault: Vault, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    slots = await submit(domain, dispatcher, may_collect=None)
    assert "lead_id" not in slots
    with vault.sessions() as session:
        assert session.scalar(select(Lead.id)) is None


async def test_a_kept_free_mail_address_scores_lower(
    vault: Vault, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    work = await submit(domain, dispatcher)
    free = await submit(
        domain, CollectingDispatcher(), email="nur.canary@gmail.com", phone="skipped"
    )
    with vault.sessions() as session:
        work_score = session.get(Lead, uuid.UUID(work["lead_id"])).score
        free_lead = session.get(Lead, uuid.UUID(free["lead_id"]))
        phone = vault.read_personal(session, free_lead.id)["phone"]
    assert free_lead.score == work_score - 10
    assert phone is None


async def test_a_disqualified_lead_raises_no_qualified_event(
    vault: Vault, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    slots = await submit(domain, dispatcher, job_title="Marketing intern")
    with vault.sessions() as session:
        lead = session.get(Lead, uuid.UUID(slots["lead_id"]))
        topics = list(session.scalars(select(OutboxEvent.topic)))
    assert lead is not None and lead.tier == "disqualified"
    assert topics == []


@pytest.mark.parametrize("broken", ["email", "name"])
async def test_an_invalid_field_writes_nothing_and_keeps_the_answers(
    vault: Vault, dispatcher: CollectingDispatcher, domain: dict[str, Any], broken: str
) -> None:
    slots = await submit(domain, dispatcher, **{broken: ""})
    assert slots == {}
    assert "couldn't pass your enquiry" in texts_of(dispatcher)[0]
    with vault.sessions() as session:
        assert session.scalar(select(Lead.id)) is None
