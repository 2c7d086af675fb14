import json

from sqlalchemy import func, select

from leads.importer import import_leads
from leads.models import Lead
from leads.vault import Vault

CONSENT = [
    {
        "purpose": "sales_contact",
        "granted": True,
        "notice_version": "1",
        "recorded_at": "2026-11-01T09:00:00+08:00",
    }
]


def _line(**fields: object) -> str:
    record = {
        "name": "Ana Tan",
        "email": "ana@acme.com.my",
        "company": "Acme",
        "job_title": "CTO",
        "consents": CONSENT,
    } | fields
    return json.dumps({k: v for k, v in record.items() if v is not None})


def _count(vault: Vault) -> int:
    with vault.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Lead)) or 0)


def test_bad_lines_are_named_and_the_rest_imports(vault: Vault) -> None:
    lines = [
        _line(email="one@acme.com.my"),
        _line(email="two@acme.com.my", consents=None),
        "{not json",
        _line(email="not-an-email"),
        _line(email="three@acme.com.my", name="x" * 600),
        _line(email="four@acme.com.my", consents=[{**CONSENT[0], "granted": False}]),
        _line(email="five@acme.com.my", surprise="field"),
        _line(
            email="six@acme.com.my", consents=[{**CONSENT[0], "notice_version": "99"}]
        ),
        _line(email="seven@acme.com.my"),
    ]
    report = import_leads(vault, lines)
    assert report.created == 2
    reasons = {error.line: error.reason for error in report.rejected}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 8]
    assert "consent" in reasons[2]
    assert reasons[3] == "not valid JSON"
    assert "email" in reasons[4]
    assert "longer than" in reasons[5]
    assert "no current consent" in reasons[6]
    assert "unknown keys: surprise" in reasons[7]
    assert "unknown notice version" in reasons[8]
    assert _count(vault) == 2


def test_rejection_messages_hold_no_submitted_values(vault: Vault) -> None:
    report = import_leads(vault, [_line(email="secret-value@@bad")])
    assert "secret-value" not in str(report.rejected[0])


def test_reimport_updates_instead_of_duplicating(vault: Vault) -> None:
    import_leads(vault, [_line()])
    report = import_leads(vault, [_line(email=" ANA@ACME.COM.MY", name="Ana T.")])
    assert (report.created, report.updated) == (0, 1)
    assert _count(vault) == 1
