"""Nothing personal or secret reaches the log during a whole console flow."""

from __future__ import annotations

import logging

import pytest
from starlette.applications import Starlette

from console.access import Role
from leads.vault import Vault
from tests.console.conftest import (
    PASSWORD,
    TestClient,
    csrf_from,
    make_lead,
    post_form,
    session_cookie,
    sign_in,
)

LEAD_NAME = "Canary Zulkifli"
LEAD_EMAIL = "canary.zulkifli@planted.example"
NOTE = "canary-note-7731"


def test_flow_logs_no_personal_data_or_secrets(
    app: Starlette,
    console_vault: Vault,
    staff: dict,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sales_member, manager_member = staff[Role.SALES], staff[Role.MANAGER]
    lead_id = make_lead(
        console_vault, LEAD_EMAIL, name=LEAD_NAME, owner_id=sales_member.user_id
    )
    with caplog.at_level(logging.DEBUG):
        sales = TestClient(app)
        token = csrf_from(sales.get("/console/login").text)
        sales.post(
            "/console/login",
            data={
                "email": sales_member.email,
                "password": "wrong password!!",
                "csrf_token": token,
            },
        )
        sign_in(sales, sales_member)
        page = f"/console/leads/{lead_id}"
        post_form(sales, page, f"{page}/reveal", {"reason": "call_back"})
        post_form(sales, page, f"{page}/notes", {"note": NOTE})
        post_form(sales, page, f"{page}/status", {"status": "won"})
        manager = TestClient(app)
        sign_in(manager, manager_member)
        token = csrf_from(manager.get("/console/export").text)
        exported = manager.post("/console/export", data={"csrf_token": token})
        assert LEAD_NAME in exported.text
    logged = caplog.text
    assert "lead.revealed" in logged or "console.lead_revealed" in logged
    secrets = [
        LEAD_NAME,
        LEAD_EMAIL,
        "60123456789",
        NOTE,
        PASSWORD,
        "wrong password!!",
        sales_member.email,
        manager_member.email,
        sales_member.secret,
        session_cookie(sales),
    ]
    for secret in secrets:
        assert secret not in logged, secret
