"""CSV export: formula neutralisation, fresh MFA, audit."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import func, select, update
from starlette.applications import Starlette

from console.access import Role
from console.export import neutralise_cell
from console.models import ConsoleSession
from leads.models import AuditEvent
from leads.vault import Vault
from tests.console.conftest import TestClient, csrf_from, make_lead, sign_in


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+60123", "'+60123"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "' =cmd"),
        ("\r=cmd", "' =cmd"),
        ("  =indented", "'  =indented"),
        ("\uff1dHYPERLINK()", "'\uff1dHYPERLINK()"),
        ("a\x00b\x1bc", "a b c"),
        ("Kopi Digital", "Kopi Digital"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_neutralise_cell(raw: str, safe: str) -> None:
    assert neutralise_cell(raw) == safe


def _export(client: TestClient, **fields: str) -> object:
    token = csrf_from(client.get("/console/export").text)
    return client.post(
        "/console/export", data={"csrf_token": token, **fields}, follow_redirects=False
    )


def test_export_is_escaped_and_audited(
    app: Starlette, console_vault: Vault, staff: dict
) -> None:
    make_lead(
        console_vault,
        "formula@cust.example",
        name='=HYPERLINK("http://evil.example","x")',
        company="@evil",
    )
    make_lead(console_vault, "plain@cust.example", tier="warm", score=50)
    manager = TestClient(app)
    sign_in(manager, staff[Role.MANAGER])
    response = _export(manager)
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("text/csv")  # type: ignore[attr-defined]
    assert "attachment" in response.headers["content-disposition"]  # type: ignore[attr-defined]
    rows = list(csv.DictReader(io.StringIO(response.text)))  # type: ignore[attr-defined]
    assert len(rows) == 2
    formula = next(r for r in rows if "HYPERLINK" in r["name"])
    assert formula["name"].startswith("'=")
    assert formula["company"] == "'@evil"
    for row in rows:
        for value in row.values():
            assert not value or value[0] not in "=+-@\t\r"
    with console_vault.sessions() as session:
        exported = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "lead.exported")
        )
        summary = session.scalar(
            select(AuditEvent.target_id).where(AuditEvent.action == "export.created")
        )
    assert exported == 2 and summary == "rows:2"


def test_export_needs_an_mfa_code_from_the_last_five_minutes(
    app: Starlette, console_vault: Vault, staff: dict
) -> None:
    make_lead(console_vault, "stale@cust.example")
    member = staff[Role.MANAGER]
    manager = TestClient(app)
    sign_in(manager, member)
    with console_vault.sessions.begin() as session:
        session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.user_id == member.user_id)
            .values(mfa_verified_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6))
        )
    assert "Code from your authenticator app" in manager.get("/console/export").text
    assert _export(manager).status_code == 403  # type: ignore[attr-defined]
    assert _export(manager, code="000000").status_code == 403  # type: ignore[attr-defined]
    assert _export(manager, code=member.code(1)).status_code == 200  # type: ignore[attr-defined]
    assert _export(manager).status_code == 200  # type: ignore[attr-defined]  # fresh now


def test_sales_cannot_export(app: Starlette, staff: dict) -> None:
    sales = TestClient(app)
    sign_in(sales, staff[Role.SALES])
    token = csrf_from(sales.get("/console/queue").text)
    response = sales.post("/console/export", data={"csrf_token": token})
    assert response.status_code == 403
