"""Talk to a human and delete my data: rows for the console's queues."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.visitor_requests import ActionRequestErasure, ActionRequestHuman
from leads.models import AuditEvent, CallbackRequest, PrivacyRequest
from leads.vault import Vault
from tests.actions.conftest import make_tracker, slot_events, texts_of


async def test_talk_to_a_human_opens_one_callback_request(
    vault: Vault, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(text="talk to a human", intent="request_human")
    await ActionRequestHuman().run(dispatcher, tracker, domain)
    await ActionRequestHuman().run(CollectingDispatcher(), tracker, domain)
    with vault.sessions() as session:
        requests = list(session.scalars(select(CallbackRequest)))
        actions = list(session.scalars(select(AuditEvent.action)))
    assert len(requests) == 1
    assert requests[0].chat_session_id == "chat-session-0001"
    assert requests[0].status == "open"
    assert actions == ["callback.requested"]
    assert "colleague" in texts_of(dispatcher)[0]


async def test_delete_my_data_records_an_erasure_request(
    vault: Vault, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(
        text="delete my data",
        intent="request_erasure",
        requested_slot="company",
        slots={"name": "Ana Lim", "email": "ana@acme.com.my", "may_collect": True},
    )
    events = await ActionRequestErasure().run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert slots["name"] is None and slots["email"] is None
    assert slots["may_collect"] is None
    assert any(e.get("event") == "active_loop" for e in events)
    with vault.sessions() as session:
        request = session.scalar(select(PrivacyRequest))
    assert request is not None
    assert (request.kind, request.channel, request.status) == (
        "erasure",
        "chat",
        "received",
    )
    assert request.chat_session_id == "chat-session-0001"
    assert f"E-{request.id}" in texts_of(dispatcher)[0]
