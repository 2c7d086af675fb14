"""CSRF: every state change on a session route needs the session's token."""

from __future__ import annotations

from starlette.applications import Starlette

from console.access import Role
from leads.models import Lead
from leads.vault import Vault
from tests.console.conftest import (
    PASSWORD,
    TestClient,
    csrf_from,
    make_lead,
    sign_in,
)


def test_sign_in_needs_the_token(client: TestClient, staff: dict) -> None:
    client.get("/console/login")
    response = client.post(
        "/console/login",
        data={"email": staff[Role.SALES].email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "Form expired" in response.text


def test_state_change_without_or_with_a_foreign_token_is_refused(
    app: Starlette, console_vault: Vault, staff: dict
) -> None:
    lead_id = make_lead(console_vault, "csrf@cust.example")
    sales = TestClient(app)
    sign_in(sales, staff[Role.SALES])
    other = TestClient(app)
    sign_in(other, staff[Role.MANAGER])
    foreign = csrf_from(other.get("/console/queue").text)
    before_sign_in = csrf_from(TestClient(app).get("/console/login").text)
    claim = f"/console/leads/{lead_id}/claim"

    assert sales.post(claim, follow_redirects=False).status_code == 403
    for token in (foreign, before_sign_in, "0" * 64):
        response = sales.post(claim, data={"csrf_token": token}, follow_redirects=False)
        assert response.status_code == 403
    with console_vault.sessions() as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None and lead.owner_id is None

    own = csrf_from(sales.get("/console/queue").text)
    header = sales.post(claim, headers={"x-csrf-token": own}, follow_redirects=False)
    assert header.status_code == 303


def test_token_from_before_sign_in_stops_working(app: Starlette, staff: dict) -> None:
    client = TestClient(app)
    stale = csrf_from(client.get("/console/login").text)
    sign_in(client, staff[Role.SALES])
    response = client.post(
        "/console/logout", data={"csrf_token": stale}, follow_redirects=False
    )
    assert response.status_code == 403
