"""The privacy officer's request pages, through the real application."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select, update
from starlette.applications import Starlette

from console.access import Role
from console.models import ConsoleSession
from leads.models import AuditEvent, Lead, PrivacyRequest
from leads.vault import Vault
from tests.console.conftest import TestClient, csrf_from, make_lead, sign_in

PAGE = "/console/privacy/requests"


def _request(vault: Vault, **values: object) -> int:
    with vault.sessions.begin() as session:
        row = PrivacyRequest(**values)
        session.add(row)
        session.flush()
        return int(row.id)


def _run(client: TestClient, request_id: int, **data: str) -> object:
    token = csrf_from(client.get(PAGE).text)
    return client.post(
        f"{PAGE}/{request_id}/run",
        data={"csrf_token": token, **data},
        follow_redirects=False,
    )


def test_officer_runs_a_chat_erasure_request(
    app: Starlette, console_vault: Vault, staff: dict
) -> None:
    lead_id = make_lead(console_vault, "erase.me@cust.example")
    with console_vault.sessions.begin() as session:
        console_vault.link_chat_session(session, lead_id, "chat-session-1")
    request_id = _request(
        console_vault, kind="erasure", channel="chat", chat_session_id="chat-session-1"
    )
    officer = TestClient(app)
    sign_in(officer, staff[Role.PRIVACY_OFFICER])
    page = officer.get(PAGE)
    assert page.status_code == 200 and "a chat session" in page.text

    response = _run(officer, request_id)

    assert response.status_code == 200, response.text
    assert "nothing of the subject is left" in response.text
    assert "erase.me@cust.example" not in response.text
    with console_vault.sessions() as session:
        assert session.get(Lead, lead_id) is None
        row = session.get(PrivacyRequest, request_id)
        assert row is not None and row.status == "completed"
        actors = session.scalars(
            select(AuditEvent.actor).where(AuditEvent.action == "subject.erased")
        ).all()
    assert actors == [f"user:{staff[Role.PRIVACY_OFFICER].user_id}"]


def test_officer_downloads_an_access_export(
    app: Starlette, console_vault: Vault, staff: dict
) -> None:
    lead_id = make_lead(console_vault, "see.me@cust.example")
    officer = TestClient(app)
    sign_in(officer, staff[Role.PRIVACY_OFFICER])
    token = csrf_from(officer.get(PAGE).text)
    opened = officer.post(
        PAGE,
        data={"csrf_token": token, "kind": "access", "email": "SEE.ME@cust.example"},
        follow_redirects=False,
    )
    assert opened.status_code == 303
    with console_vault.sessions() as session:
        request_id = session.scalar(
            select(PrivacyRequest.id).where(PrivacyRequest.lead_id == lead_id)
        )
    assert request_id is not None

    response = _run(officer, request_id, format="json")

    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"
    document = json.loads(response.text)
    assert document["fields"]["email"] == "see.me@cust.example"
    html = _run(officer, request_id, format="html")
    assert html.status_code == 409  # a completed request is not run twice


def test_running_needs_a_fresh_second_factor(
    app: Starlette, console_vault: Vault, staff: dict
) -> None:
    lead_id = make_lead(console_vault, "stale@cust.example")
    request_id = _request(console_vault, kind="erasure", channel="web", lead_id=lead_id)
    officer = TestClient(app)
    member = staff[Role.PRIVACY_OFFICER]
    sign_in(officer, member)
    with console_vault.sessions.begin() as session:
        session.execute(
            update(ConsoleSession).values(
                mfa_verified_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6)
            )
        )
    refused = _run(officer, request_id)
    assert refused.status_code == 403
    with console_vault.sessions() as session:
        assert session.get(Lead, lead_id) is not None
    accepted = _run(officer, request_id, code=member.code(1))
    assert accepted.status_code == 200, accepted.text
    with console_vault.sessions() as session:
        assert session.get(Lead, lead_id) is None


def test_other_roles_cannot_see_privacy_requests(app: Starlette, staff: dict) -> None:
    for role in (Role.SALES, Role.MANAGER, Role.ADMIN):
        client = TestClient(app)
        sign_in(client, staff[role])
        assert client.get(PAGE).status_code == 403
