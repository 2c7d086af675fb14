"""The privacy officer's audit trail shows events and the chain's status."""

from __future__ import annotations

from sqlalchemy import update
from starlette.applications import Starlette

from console.access import Role
from leads.models import AuditEvent
from leads.vault import Vault
from tests.console.conftest import TestClient, make_lead, post_form, sign_in


def test_audit_trail_names_reveals_and_detects_tampering(
    app: Starlette, console_vault: Vault, staff: dict
) -> None:
    sales_member = staff[Role.SALES]
    lead_id = make_lead(
        console_vault, "audit@cust.example", owner_id=sales_member.user_id
    )
    sales = TestClient(app)
    sign_in(sales, sales_member)
    page = f"/console/leads/{lead_id}"
    post_form(sales, page, f"{page}/reveal", {"reason": "reply"})

    officer = TestClient(app)
    sign_in(officer, staff[Role.PRIVACY_OFFICER])
    trail = officer.get("/console/audit?action=lead.revealed")
    assert "Chain verified" in trail.text
    assert "lead.revealed.reply" in trail.text and str(lead_id) in trail.text
    assert sales_member.email in trail.text
    assert "audit@cust.example" not in trail.text

    with console_vault.sessions.begin() as session:
        session.execute(
            update(AuditEvent).where(AuditEvent.id == 2).values(actor="user:forged")
        )
    broken = officer.get("/console/audit")
    assert "Chain broken at event 2" in broken.text
