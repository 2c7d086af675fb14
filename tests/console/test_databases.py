"""The console's main flow on SQLite and on the real PostgreSQL; Redis back-off.

The conditional updates that make claims, TOTP steps and recovery codes
single-use are checked on both databases, and the back-off counters are
shared by two application instances through Redis (as replicas would).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from console.access import Role
from console.app import create_app
from console.models import LeadNote
from leads.models import Lead
from leads.settings import Settings
from leads.vault import Vault
from tests.console.conftest import (
    PASSWORD,
    TestClient,
    csrf_from,
    make_lead,
    make_staff,
    post_form,
    settings_with,
    sign_in,
)


def test_main_flow(db_settings: Settings) -> None:
    vault = Vault.from_settings(db_settings)
    sales = make_staff(vault, db_settings, Role.SALES, "db-sales@team.example")
    manager = make_staff(vault, db_settings, Role.MANAGER, "db-mgr@team.example")
    lead_id = make_lead(vault, "db@cust.example", name="Nur Iman")
    app = create_app(db_settings)

    code = sales.code()
    client = TestClient(app)
    sign_in(client, sales, code)
    page = f"/console/leads/{lead_id}"
    assert post_form(client, page, f"{page}/claim", {}).status_code == 303  # type: ignore[attr-defined]
    revealed = post_form(client, page, f"{page}/reveal", {"reason": "meeting"})
    assert "Nur Iman" in revealed.text  # type: ignore[attr-defined]
    post_form(client, page, f"{page}/notes", {"note": "Budget approved"})
    assert "Budget approved" in client.get(page).text

    replay = TestClient(app)
    token = csrf_from(replay.get("/console/login").text)
    replay.post(
        "/console/login",
        data={"email": sales.email, "password": PASSWORD, "csrf_token": token},
    )
    token = csrf_from(replay.get("/console/mfa").text)
    refused = replay.post("/console/mfa", data={"code": code, "csrf_token": token})
    assert refused.status_code == 400

    boss = TestClient(app)
    sign_in(boss, manager)
    token = csrf_from(boss.get("/console/export").text)
    exported = boss.post("/console/export", data={"csrf_token": token})
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["name"] for r in rows] == ["Nur Iman"]
    with vault.sessions() as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None and lead.owner_id == sales.user_id
        note = session.scalar(select(LeadNote))
        assert note is not None and b"Budget" not in note.body_sealed


@pytest.mark.integration
def test_back_off_is_shared_through_redis(tmp_path: Path) -> None:
    shared = settings_with(
        tmp_path, console_rate_limit_storage="redis://127.0.0.1:6379/7"
    )
    vault = Vault.from_settings(shared)
    member = make_staff(vault, shared, Role.SALES, "redis@team.example")
    replicas = [TestClient(create_app(shared)) for _ in range(2)]

    def attempt(client: TestClient, password: str) -> int:
        token = csrf_from(client.get("/console/login").text)
        response = client.post(
            "/console/login",
            data={"email": member.email, "password": password, "csrf_token": token},
            follow_redirects=False,
        )
        return response.status_code

    statuses = [attempt(replicas[n % 2], "wrong password!!") for n in range(5)]
    assert statuses == [400] * 5
    assert attempt(replicas[1], PASSWORD) == 429
    assert attempt(replicas[0], PASSWORD) == 429
