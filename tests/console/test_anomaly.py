"""Anomaly alert: too many reveals in an hour -> audit, email, lock."""

from __future__ import annotations

import socket
from pathlib import Path

from sqlalchemy import select

from console.access import Role
from console.app import create_app
from console.models import ConsoleUser
from leads.models import AuditEvent
from leads.vault import Vault
from nurture.mail_sink import start_sink
from tests.console.conftest import (
    TestClient,
    make_lead,
    make_staff,
    post_form,
    settings_with,
    sign_in,
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_reveals_above_threshold_alert_admins_and_lock(tmp_path: Path) -> None:
    port = _free_port()
    settings = settings_with(
        tmp_path,
        console_anomaly_leads_per_hour=3,
        console_anomaly_lock=True,
        smtp_port=port,
        smtp_security="dev-sink",
    )
    folder = tmp_path / "mail"
    sink = start_sink(folder, port=port)
    try:
        vault = Vault.from_settings(settings)
        make_staff(vault, settings, Role.ADMIN, "boss@team.example")
        member = make_staff(vault, settings, Role.SALES, "curious@team.example")
        leads = [
            make_lead(vault, f"l{n}@cust.example", owner_id=member.user_id)
            for n in range(4)
        ]
        client = TestClient(create_app(settings))
        sign_in(client, member)
        # The same lead three times counts once; the third distinct lead alerts.
        for lead_id in [leads[0], leads[0], leads[0], leads[1], leads[2]]:
            page = f"/console/leads/{lead_id}"
            response = post_form(
                client, page, f"{page}/reveal", {"reason": "call_back"}
            )
            assert response.status_code == 200  # type: ignore[attr-defined]
        after = client.get(f"/console/leads/{leads[3]}", follow_redirects=False)
    finally:
        sink.stop()

    assert after.status_code == 303  # the account was disabled, session ended
    with vault.sessions() as session:
        anomalies = list(
            session.scalars(
                select(AuditEvent.target_id).where(AuditEvent.action == "user.anomaly")
            )
        )
        user = session.get(ConsoleUser, member.user_id)
    assert anomalies == [str(member.user_id)]
    assert user is not None and user.disabled
    mails = [p.read_bytes() for p in folder.rglob("*.eml")]
    assert len(mails) == 1
    assert b"boss@team.example" in mails[0]
    assert str(member.user_id).encode() in mails[0]
    assert b"cust.example" not in mails[0]
