"""The incident report lists exposed subjects from the audit log, ids only."""

from __future__ import annotations

import datetime as dt

import pytest

from leads.audit import record_audit
from leads.errors import InvalidInputError
from leads.incident import incident_report, render_incident_markdown
from leads.settings import Settings
from leads.vault import LeadInput, Vault

EMAILS = ("ana@acme.com.my", "ben@acme.com.my", "cy@acme.com.my")


def _leads(vault: Vault) -> list[str]:
    ids = []
    for email in EMAILS:
        with vault.sessions.begin() as session:
            result = vault.capture_lead(
                session,
                LeadInput(name="Ana Tan", email=email, company="Acme", job_title="CTO"),
                score=50,
                tier="warm",
                source="test",
            )
        ids.append(str(result.lead_id))
    return ids


def test_report_lists_revealed_and_exported_subjects_in_the_window(
    settings: Settings,
) -> None:
    vault = Vault.from_settings(settings)
    ana, ben, cy = _leads(vault)
    with vault.sessions.begin() as session:
        record_audit(
            session, actor="user:a", action="lead.revealed.call", target_id=ana
        )
    since = dt.datetime.now(dt.UTC)
    with vault.sessions.begin() as session:
        record_audit(
            session, actor="user:b", action="lead.revealed.call", target_id=ben
        )
        record_audit(session, actor="user:b", action="lead.exported", target_id=ben)
        record_audit(session, actor="user:b", action="lead.exported", target_id=cy)
        record_audit(session, actor="user:b", action="lead.claimed", target_id=ana)
    detected = since + dt.timedelta(hours=1)
    with vault.sessions() as session:
        report = incident_report(session, since=since, detected_at=detected)

    assert [s.lead_id for s in report.subjects] == sorted([ben, cy])
    by_id = {s.lead_id: s for s in report.subjects}
    assert dict(by_id[ben].actions) == {"lead.revealed.call": 1, "lead.exported": 1}
    assert dict(report.actors) == {"user:b": 3}
    assert report.deadline == detected + dt.timedelta(hours=72)

    text = render_incident_markdown(report)
    assert "Personal Data Protection Commissioner" in text and "Art. 33" in text
    assert f"**{report.deadline:%Y-%m-%d %H:%M} UTC**" in text
    assert ben in text and ana not in text
    for email in EMAILS:
        assert email not in text
    assert "Ana Tan" not in text


def test_naive_or_empty_windows_are_refused(settings: Settings) -> None:
    vault = Vault.from_settings(settings)
    now = dt.datetime.now(dt.UTC)
    with vault.sessions() as session:
        with pytest.raises(InvalidInputError):
            incident_report(session, since=dt.datetime(2026, 1, 1))
        with pytest.raises(InvalidInputError):
            incident_report(session, since=now, until=now - dt.timedelta(days=1))
