"""Queue, object-level checks, reveal, notes, status and callbacks."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, text
from starlette.applications import Starlette

from console.access import Role
from console.models import LeadNote
from leads.errors import DecryptionError, NotFoundError
from leads.models import AuditEvent, CallbackRequest, Lead
from leads.settings import Settings
from leads.vault import Vault
from nurture.models import NurtureEnrollment
from tests.console.conftest import (
    TestClient,
    make_lead,
    make_staff,
    post_form,
    sign_in,
)


def _signed_in(app: Starlette, member: object) -> TestClient:
    client = TestClient(app)
    sign_in(client, member)  # type: ignore[arg-type]
    return client


def test_salesperson_sees_unassigned_and_own_leads_only(
    app: Starlette, console_vault: Vault, settings: Settings, staff: dict
) -> None:
    other = make_staff(console_vault, settings, Role.SALES, "other@team.example")
    mine = make_lead(
        console_vault, "mine@cust.example", owner_id=staff[Role.SALES].user_id
    )
    pool = make_lead(console_vault, "pool@cust.example")
    theirs = make_lead(console_vault, "theirs@cust.example", owner_id=other.user_id)
    sales = _signed_in(app, staff[Role.SALES])

    listing = sales.get("/console/queue").text
    assert str(mine) in listing and str(pool) in listing
    assert str(theirs) not in listing
    for path in (f"/console/leads/{theirs}",):
        assert sales.get(path).status_code == 404
    for action, data in (
        ("reveal", {"reason": "call_back"}),
        ("claim", {}),
        ("status", {"status": "won"}),
        ("notes", {"note": "hello"}),
    ):
        response = post_form(
            sales, "/console/queue", f"/console/leads/{theirs}/{action}", data
        )
        assert response.status_code == 404, action  # type: ignore[attr-defined]
    manager = _signed_in(app, staff[Role.MANAGER])
    assert str(theirs) in manager.get("/console/queue").text
    assert manager.get(f"/console/leads/{theirs}").status_code == 200


def test_claim_reveal_note_and_status_stop_follow_ups(
    app: Starlette, console_vault: Vault, staff: dict
) -> None:
    lead_id = make_lead(console_vault, "claim@cust.example", name="Siti Nurhaliza")
    with console_vault.sessions.begin() as session:
        session.add(
            NurtureEnrollment(
                lead_id=lead_id, sequence="welcome", status_at_enrollment="new"
            )
        )
    sales = _signed_in(app, staff[Role.SALES])
    page = f"/console/leads/{lead_id}"

    masked = sales.get(page).text
    assert "Siti Nurhaliza" not in masked and "claim@cust.example" not in masked
    assert "Claim the lead to see its contact details" in masked
    early = post_form(sales, page, f"{page}/reveal", {"reason": "call_back"})
    assert early.status_code == 409  # type: ignore[attr-defined]
    refused = post_form(sales, page, f"{page}/status", {"status": "contacted"})
    assert refused.status_code == 409  # type: ignore[attr-defined]
    assert post_form(sales, page, f"{page}/claim", {}).status_code == 303  # type: ignore[attr-defined]
    no_reason = post_form(sales, page, f"{page}/reveal", {"reason": ""})
    assert no_reason.status_code == 409  # type: ignore[attr-defined]
    revealed = post_form(sales, page, f"{page}/reveal", {"reason": "call_back"})
    assert "Siti Nurhaliza" in revealed.text  # type: ignore[attr-defined]
    assert revealed.headers["cache-control"] == "no-store"  # type: ignore[attr-defined]
    post_form(sales, page, f"{page}/notes", {"note": "Prefers WhatsApp after 5pm"})
    post_form(sales, page, f"{page}/status", {"status": "meeting"})

    assert "Prefers WhatsApp after 5pm" in sales.get(page).text
    with console_vault.sessions() as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        assert lead.owner_id == staff[Role.SALES].user_id
        assert lead.status == "meeting"
        enrollment = session.scalar(select(NurtureEnrollment))
        assert enrollment is not None and enrollment.state == "stopped"
        actions = set(session.scalars(select(AuditEvent.action)))
        raw = session.execute(text("SELECT body_sealed FROM lead_notes")).scalar_one()
    assert b"WhatsApp" not in raw
    assert {
        "lead.claimed",
        "lead.revealed.call_back",
        "lead.note_added",
        "lead.status.meeting",
    } <= actions


def test_second_claim_loses(
    app: Starlette, console_vault: Vault, settings: Settings, staff: dict
) -> None:
    other = make_staff(console_vault, settings, Role.SALES, "second@team.example")
    lead_id = make_lead(console_vault, "race@cust.example")
    first, second = _signed_in(app, staff[Role.SALES]), _signed_in(app, other)
    page = f"/console/leads/{lead_id}"
    assert post_form(first, page, f"{page}/claim", {}).status_code == 303  # type: ignore[attr-defined]
    assert second.get(page).status_code == 404  # no longer in their queue
    assert post_form(second, "/console/queue", f"{page}/claim", {}).status_code == 404  # type: ignore[attr-defined]


def test_manager_assigns(app: Starlette, console_vault: Vault, staff: dict) -> None:
    lead_id = make_lead(console_vault, "assign@cust.example")
    manager = _signed_in(app, staff[Role.MANAGER])
    page = f"/console/leads/{lead_id}"
    owner = str(staff[Role.SALES].user_id)
    assert (
        post_form(manager, page, f"{page}/assign", {"owner_id": owner}).status_code
        == 303
    )  # type: ignore[attr-defined]
    admin_id = str(staff[Role.ADMIN].user_id)
    assert (
        post_form(manager, page, f"{page}/assign", {"owner_id": admin_id}).status_code
        == 409
    )  # type: ignore[attr-defined]
    with console_vault.sessions() as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None and str(lead.owner_id) == owner


def test_notes_are_erased_with_the_lead(
    app: Starlette, console_vault: Vault, staff: dict
) -> None:
    lead_id = make_lead(
        console_vault, "erase@cust.example", owner_id=staff[Role.SALES].user_id
    )
    sales = _signed_in(app, staff[Role.SALES])
    page = f"/console/leads/{lead_id}"
    post_form(sales, page, f"{page}/notes", {"note": "to be shredded"})
    with console_vault.sessions.begin() as session:
        console_vault.erase_subject(session, lead_id, actor="test")
    with console_vault.sessions() as session:
        assert (
            session.scalar(select(LeadNote).where(LeadNote.lead_id == lead_id)) is None
        )


def test_callback_requests_appear_in_the_queue(
    app: Starlette, console_vault: Vault, staff: dict
) -> None:
    lead_id = make_lead(console_vault, "human@cust.example")
    with console_vault.sessions.begin() as session:
        with_lead = CallbackRequest(lead_id=lead_id, chat_session_id="c1")
        anonymous = CallbackRequest(chat_session_id=uuid.uuid4().hex)
        session.add_all([with_lead, anonymous])
        session.flush()
        done_id = with_lead.id
    sales = _signed_in(app, staff[Role.SALES])
    listing = sales.get("/console/queue").text
    assert "Asked to talk to a human" in listing
    assert f"/console/callbacks/{done_id}/done" in listing
    assert "chat visitor (no lead yet)" in listing
    response = post_form(
        sales, "/console/queue", f"/console/callbacks/{done_id}/done", {}
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert f"/console/callbacks/{done_id}/done" not in sales.get("/console/queue").text


def test_queue_filters(app: Starlette, console_vault: Vault, staff: dict) -> None:
    hot = make_lead(console_vault, "hot@cust.example", tier="hot", score=90)
    cold = make_lead(console_vault, "cold@cust.example", tier="cold", score=20)
    manager = _signed_in(app, staff[Role.MANAGER])
    only_hot = manager.get("/console/queue?tier=hot").text
    assert str(hot) in only_hot and str(cold) not in only_hot
    high = manager.get("/console/queue?min_score=50").text
    assert str(hot) in high and str(cold) not in high
    everything = manager.get("/console/queue?tier=bogus&min_score=x").text
    assert everything.index(str(hot)) < everything.index(str(cold))


def test_a_note_moved_to_another_row_or_lead_does_not_open(
    console_vault: Vault,
) -> None:
    first = make_lead(console_vault, "first@cust.example")
    second = make_lead(console_vault, "second@cust.example")
    note_id, other_id = uuid.uuid4(), uuid.uuid4()
    with console_vault.sessions.begin() as session:
        sealed = console_vault.seal_for_subject(
            session, first, ("lead_notes", "body", note_id), "private remark"
        )
        opened = console_vault.open_for_subject(
            session, first, ("lead_notes", "body", note_id), sealed
        )
        assert opened.reveal() == "private remark"
        assert str(opened) != "private remark"
        for subject, place in (
            (first, ("lead_notes", "body", other_id)),
            (first, ("lead_notes", "title", note_id)),
            (second, ("lead_notes", "body", note_id)),
        ):
            with pytest.raises(DecryptionError):
                console_vault.open_for_subject(session, subject, place, sealed)
        console_vault.erase_subject(session, first, actor="test")
        with pytest.raises(NotFoundError):
            console_vault.open_for_subject(
                session, first, ("lead_notes", "body", note_id), sealed
            )


def test_withdrawn_sales_consent_leaves_the_queue_and_blocks_reveal(
    app: Starlette, console_vault: Vault, staff: dict
) -> None:
    from leads.models import Purpose
    from leads.withdrawal import withdraw_consent

    kept = make_lead(console_vault, "kept@cust.example")
    gone = make_lead(
        console_vault, "gone@cust.example", owner_id=staff[Role.MANAGER].user_id
    )
    with console_vault.sessions.begin() as session:
        withdraw_consent(
            session, gone, Purpose.SALES_CONTACT, channel="chat", actor="chat"
        )
    manager = _signed_in(app, staff[Role.MANAGER])
    listing = manager.get("/console/queue").text
    assert str(kept) in listing and str(gone) not in listing

    page = f"/console/leads/{gone}"
    response = post_form(manager, page, f"{page}/reveal", {"reason": "call_back"})
    assert "gone@cust.example" not in response.text  # type: ignore[attr-defined]
    assert "not agreed to be contacted" in response.text  # type: ignore[attr-defined]
    with console_vault.sessions() as session:
        revealed = session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("lead.revealed.%"))
        ).all()
    assert revealed == []
