"""Privacy requests from chat, web or console run the shared operations."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select

from leads.consent import ConsentAnswer, record_consent
from leads.models import CallbackRequest, ConsentRecord, Lead, PrivacyRequest, Purpose
from leads.privacy_requests import open_requests, run_privacy_request
from leads.privacy_stores import ErasureTarget
from tests.privacy.conftest import World


def _request(world: World, **values: object) -> int:
    with world.vault.sessions.begin() as session:
        request = PrivacyRequest(**values)
        session.add(request)
        session.flush()
        return int(request.id)


def _run(world: World, request_id: int) -> object:
    return run_privacy_request(
        world.vault,
        request_id,
        actor="user:officer",
        settings=world.settings,
        stores=world.stores,
    )


def test_chat_delete_my_data_erases_the_linked_lead_everywhere(world: World) -> None:
    subject = world.subject
    assert subject is not None
    request_id = _request(
        world, kind="erasure", channel="chat", chat_session_id=subject.chat_ids[1]
    )
    with world.vault.sessions() as session:
        assert [r.id for r in open_requests(session)] == [request_id]

    outcome = _run(world, request_id)

    assert outcome.lead_id == subject.lead_id  # type: ignore[attr-defined]
    assert outcome.erasure.verification.clean  # type: ignore[attr-defined]
    with world.vault.sessions() as session:
        assert session.get(Lead, subject.lead_id) is None
        request = session.get(PrivacyRequest, request_id)
        assert request is not None and request.status == "completed"
        assert request.chat_session_id is None
        assert open_requests(session) == []
    target = ErasureTarget(subject.lead_id, None, tuple(subject.chat_ids))
    assert world.tracker.export(target) == []


def test_chat_request_without_a_lead_erases_that_conversation(world: World) -> None:
    chat_id = secrets.token_hex(16)
    repository = world.tracker._repository()
    try:
        repository.save(chat_id, {"events": [{"event": "user", "text": "hi"}]})
    finally:
        repository.close()
    with world.vault.sessions.begin() as session:
        record_consent(
            session,
            ConsentAnswer(Purpose.SALES_CONTACT, False, "1", "chat"),
            chat_session_id=chat_id,
        )
        session.add(CallbackRequest(chat_session_id=chat_id))
    request_id = _request(
        world, kind="erasure", channel="chat", chat_session_id=chat_id
    )

    outcome = _run(world, request_id)

    assert outcome.lead_id is None  # type: ignore[attr-defined]
    assert outcome.removed_for_session == 3  # type: ignore[attr-defined]
    target = ErasureTarget(world.subject.lead_id, None, (chat_id,))  # type: ignore[union-attr]
    assert world.tracker.export(target) == []
    with world.vault.sessions() as session:
        for model in (ConsentRecord, CallbackRequest):
            count = select(func.count()).where(model.chat_session_id == chat_id)
            assert session.scalar(count) == 0
        assert session.get(PrivacyRequest, request_id).status == "completed"  # type: ignore[union-attr]
        assert session.get(Lead, world.subject.lead_id) is not None  # type: ignore[union-attr]


def test_access_request_returns_the_export(world: World) -> None:
    subject = world.subject
    assert subject is not None
    request_id = _request(
        world, kind="access", channel="console", lead_id=subject.lead_id
    )
    outcome = _run(world, request_id)
    document = outcome.document  # type: ignore[attr-defined]
    assert document["fields"]["email"] == subject.email
    with world.vault.sessions() as session:
        assert session.get(PrivacyRequest, request_id).status == "completed"  # type: ignore[union-attr]
