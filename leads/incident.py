"""Breach readiness: who was exposed in a window, and the notices to send.

:func:`incident_report` reads the audit log for every event in a time
window that revealed or exported a subject's personal data (console reveals,
CSV exports, subject access exports, email previews) and lists the subjects
(by lead id), the actors and the actions. :func:`render_incident_markdown`
adds draft notices:

- to the regulator: the Personal Data Protection Commissioner (Malaysia,
  PDPA s.12B as amended in 2024: notify as soon as practicable, within 72
  hours) and the lead GDPR supervisory authority (Art. 33: within 72 hours
  of becoming aware);
- to the subjects (PDPA: within 7 days of notifying the Commissioner where
  the breach is likely to cause significant harm; GDPR Art. 34: without
  undue delay where the risk is high).

The report names subjects by lead id only; it holds no personal values, so
it can be shared with the incident team without becoming a second leak.
Contact details are looked up at sending time, through the vault.

Limits: the audit log shows what leadguard's own code revealed. Access that
bypassed the application (a stolen database copy with the key ring, a
compromised host reading memory) leaves no audit event: in that case every
subject whose data key could be unwrapped must be treated as exposed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from leads.errors import InvalidInputError
from leads.models import AuditEvent, Lead

log = logging.getLogger(__name__)

NOTIFY_WITHIN = dt.timedelta(hours=72)
SUBJECT_NOTICE_WITHIN_PDPA = dt.timedelta(days=7)
EXPOSING_PREFIXES = ("lead.revealed.",)
EXPOSING_ACTIONS = frozenset(
    {"lead.revealed", "lead.exported", "subject.exported", "nurture.previewed"}
)

__all__ = [
    "EXPOSING_ACTIONS",
    "IncidentReport",
    "incident_report",
    "render_incident_markdown",
]


@dataclass
class ExposedSubject:
    """One subject whose data left the vault in the window."""

    lead_id: str
    actions: Counter[str] = field(default_factory=Counter)
    actors: set[str] = field(default_factory=set)
    first_at: dt.datetime | None = None
    last_at: dt.datetime | None = None
    still_held: bool = True


@dataclass
class IncidentReport:
    """The subjects exposed in a window, who exposed them, and the deadline."""

    since: dt.datetime
    until: dt.datetime
    detected_at: dt.datetime
    subjects: list[ExposedSubject]
    actors: Counter[str]
    events: int

    @property
    def deadline(self) -> dt.datetime:
        """When the regulator must have been notified (72 hours)."""
        return self.detected_at + NOTIFY_WITHIN

    def summary(self) -> dict[str, object]:
        """Return a JSON-ready summary (ids, counts and times only)."""
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "detected_at": self.detected_at.isoformat(),
            "regulator_deadline": self.deadline.isoformat(),
            "events": self.events,
            "actors": dict(self.actors),
            "subjects": [
                {
                    "lead_id": s.lead_id,
                    "actions": dict(s.actions),
                    "actors": sorted(s.actors),
                    "first_at": s.first_at.isoformat() if s.first_at else None,
                    "last_at": s.last_at.isoformat() if s.last_at else None,
                    "still_held": s.still_held,
                }
                for s in self.subjects
            ],
        }


def _exposing() -> ColumnElement[bool]:
    return or_(
        AuditEvent.action.in_(sorted(EXPOSING_ACTIONS)),
        *(AuditEvent.action.startswith(p) for p in EXPOSING_PREFIXES),
    )


def incident_report(
    session: Session,
    *,
    since: dt.datetime,
    until: dt.datetime | None = None,
    detected_at: dt.datetime | None = None,
) -> IncidentReport:
    """List every subject revealed or exported between ``since`` and ``until``.

    Args:
        session: a session on the leadguard database.
        since: the start of the window (timezone-aware).
        until: the end of the window; defaults to now.
        detected_at: when the breach was detected (the 72-hour clock
            starts there); defaults to now.

    Raises:
        InvalidInputError: a time is naive or the window is empty.
    """
    now = dt.datetime.now(dt.UTC)
    until = until or now
    detected_at = detected_at or now
    for name, value in (("since", since), ("until", until), ("detected", detected_at)):
        if value.tzinfo is None:
            raise InvalidInputError(name, "give a time zone, e.g. 2026-12-01T00:00Z")
    if since >= until:
        raise InvalidInputError("since", "must be before the end of the window")
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.occurred_at >= since)
        .where(AuditEvent.occurred_at <= until)
        .where(_exposing())
        .order_by(AuditEvent.id)
    )
    subjects: dict[str, ExposedSubject] = {}
    actors: Counter[str] = Counter()
    count = 0
    for event in events:
        count += 1
        actors[event.actor] += 1
        if not event.target_id:
            continue
        subject = subjects.setdefault(event.target_id, ExposedSubject(event.target_id))
        subject.actions[event.action] += 1
        subject.actors.add(event.actor)
        subject.first_at = subject.first_at or event.occurred_at
        subject.last_at = event.occurred_at
    held = {str(i) for i in session.scalars(select(Lead.id))} if subjects else set()
    for subject in subjects.values():
        subject.still_held = subject.lead_id in held
    log.info("incident.report events=%s subjects=%s", count, len(subjects))
    return IncidentReport(
        since,
        until,
        detected_at,
        sorted(subjects.values(), key=lambda s: s.lead_id),
        actors,
        count,
    )


def _regulator_notice(report: IncidentReport) -> list[str]:
    return [
        "## Draft notice to the regulator",
        "",
        "To: the Personal Data Protection Commissioner, Malaysia (PDPA s.12B), "
        "and the lead supervisory authority under GDPR Art. 33.",
        "",
        f"Send by: **{report.deadline:%Y-%m-%d %H:%M} UTC** (72 hours after "
        f"detection at {report.detected_at:%Y-%m-%d %H:%M} UTC). If this is "
        "late, give the reasons for the delay (GDPR Art. 33(1)).",
        "",
        "1. Nature of the breach: [describe how the data was accessed].",
        f"2. Period: {report.since:%Y-%m-%d %H:%M} to "
        f"{report.until:%Y-%m-%d %H:%M} UTC.",
        f"3. Data subjects concerned: {len(report.subjects)} B2B leads "
        "(business contacts).",
        f"4. Records concerned: {report.events} reveal or export events.",
        "5. Categories of personal data: name, business email, phone, "
        "company, job title, stated business need.",
        "6. Likely consequences: [phishing or unsolicited contact; assess].",
        "7. Measures taken: accounts involved suspended, sessions ended, "
        "keys rotated per the key revocation runbook; [other measures].",
        "8. Contact: the Data Protection Officer, [name, email, phone].",
        "",
    ]


def _subject_notice(report: IncidentReport) -> list[str]:
    pdpa_by = report.deadline + SUBJECT_NOTICE_WITHIN_PDPA
    return [
        "## Draft notice to the data subjects",
        "",
        f"Send to the {sum(s.still_held for s in report.subjects)} subjects "
        "still held (look up each address through the vault at sending time; "
        "erased subjects cannot be contacted and their data is destroyed). "
        "PDPA: within 7 days of notifying the Commissioner "
        f"(by {pdpa_by:%Y-%m-%d} at the latest); GDPR Art. 34: without undue "
        "delay when the risk to them is high.",
        "",
        "> Subject: Information about your personal data",
        ">",
        "> We are writing to tell you that between "
        f"{report.since:%d %B %Y} and {report.until:%d %B %Y} your contact "
        "details held by us (name, business email, phone, company, job title "
        "and the need you described) may have been seen by someone not "
        "entitled to them. [What happened.] We have [measures taken]. You may "
        "receive unexpected emails or calls that use these details; please be "
        "careful with messages asking for passwords or payments. You can ask "
        "for a copy of your data or its erasure at [self-service link], or "
        "contact our Data Protection Officer at [contact].",
        "",
    ]


def render_incident_markdown(report: IncidentReport) -> str:
    """Render the report and both draft notices as Markdown."""
    lines = [
        "# Incident report",
        "",
        f"- Window: {report.since.isoformat()} to {report.until.isoformat()}",
        f"- Detected: {report.detected_at.isoformat()}",
        f"- Regulator deadline (72 h): **{report.deadline.isoformat()}**",
        f"- Reveal and export events: {report.events}",
        f"- Subjects exposed: {len(report.subjects)}",
        "",
        "## Actors",
        "",
        "| actor | events |",
        "| --- | --- |",
        *(f"| `{a}` | {n} |" for a, n in report.actors.most_common()),
        "",
        "## Subjects",
        "",
        "| lead id | actions | actors | first | last | still held |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for s in report.subjects:
        actions = ", ".join(f"{a} x{n}" for a, n in sorted(s.actions.items()))
        lines.append(
            f"| `{s.lead_id}` | {actions} | {', '.join(sorted(s.actors))} | "
            f"{s.first_at:%Y-%m-%d %H:%M} | {s.last_at:%Y-%m-%d %H:%M} | "
            f"{'yes' if s.still_held else 'erased'} |"
        )
    lines.append("")
    lines += _regulator_notice(report)
    lines += _subject_notice(report)
    return "\n".join(lines)
