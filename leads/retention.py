"""Retention: delete what has been kept long enough, kind by kind.

Periods are settings (days), one per kind of record:

- unqualified leads (``LEADGUARD_RETENTION_UNQUALIFIED_LEADS_DAYS``): leads
  never qualified, or disqualified, and untouched for the period are erased
  everywhere, like an erasure request;
- transcripts (``LEADGUARD_TRANSCRIPT_RETENTION_DAYS``, the same variable
  the Rasa tracker store reads): conversations untouched for the period, and
  the consent answers and callback requests of chat visitors who never
  became leads;
- email records (``LEADGUARD_RETENTION_EMAIL_RECORDS_DAYS``): finished send
  records and enrollments, and development mail files, older than the
  period;
- audit log (``LEADGUARD_RETENTION_AUDIT_LOG_DAYS``): counted (see Limits).

:func:`run_retention` with ``dry_run=True`` counts what would go and
changes nothing (``leadguard retention run --dry-run``); the periodic task
(:mod:`leads.retention_task`) runs it for real, after completing any
erasure left unfinished.

Limits: the audit log is hash-chained from its first event, so deleting its
oldest events would break verification; events past their period are
reported, not deleted, until the chain supports a signed starting anchor.
Audit events hold ids only, and an erased subject's id links to nothing.
Unqualified leads are erased at most ``batch`` per run, so one run stays
short; the report says how many remain.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from leads.erasure import erase_subject_everywhere
from leads.models import (
    AuditEvent,
    CallbackRequest,
    ConsentRecord,
    Lead,
    LeadChatSession,
    LeadStatus,
    Tier,
    utcnow,
)
from leads.privacy_stores import (
    ExternalStore,
    MailFolder,
    TrackerStore,
    external_stores,
)
from leads.settings import Settings, get_settings
from leads.vault import Vault

log = logging.getLogger(__name__)

RETENTION_ACTOR = "system:retention"
DEFAULT_BATCH = 500

__all__ = ["RetentionItem", "RetentionReport", "run_retention"]


@dataclass(frozen=True)
class RetentionItem:
    """One kind of record: how many are past the period, and what was done."""

    kind: str
    cutoff: dt.datetime
    due: int
    removed: int
    note: str = ""


@dataclass
class RetentionReport:
    """The outcome of one retention run (counts and ids only)."""

    dry_run: bool
    items: list[RetentionItem] = field(default_factory=list)
    erased_leads: list[uuid.UUID] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        """Return a JSON-ready summary."""
        return {
            "dry_run": self.dry_run,
            "items": [
                {
                    "kind": i.kind,
                    "cutoff": i.cutoff.isoformat(),
                    "due": i.due,
                    "removed": i.removed,
                    "note": i.note,
                }
                for i in self.items
            ],
        }


def _cutoff(now: dt.datetime, days: int) -> dt.datetime:
    return now - dt.timedelta(days=days)


def _unqualified_condition(cutoff: dt.datetime) -> ColumnElement[bool]:
    unqualified = or_(
        Lead.qualified_at.is_(None),
        Lead.tier == Tier.DISQUALIFIED.value,
        Lead.status == LeadStatus.DISQUALIFIED.value,
    )
    return and_(unqualified, Lead.updated_at < cutoff)


def _unqualified_leads(
    vault: Vault,
    settings: Settings,
    stores: Sequence[ExternalStore],
    report: RetentionReport,
    now: dt.datetime,
    batch: int,
) -> None:
    cutoff = _cutoff(now, settings.retention_unqualified_leads_days)
    condition = _unqualified_condition(cutoff)
    with vault.sessions() as session:
        due = int(session.scalar(select(func.count()).where(condition)) or 0)
        ids = list(session.scalars(select(Lead.id).where(condition).limit(batch)))
    if report.dry_run:
        report.items.append(RetentionItem("unqualified_leads", cutoff, due, 0))
        return
    for lead_id in ids:
        erase_subject_everywhere(
            vault,
            lead_id,
            actor=RETENTION_ACTOR,
            channel="retention",
            settings=settings,
            stores=stores,
        )
        report.erased_leads.append(lead_id)
    left = due - len(ids)
    note = f"{left} left for the next run" if left > 0 else ""
    report.items.append(RetentionItem("unqualified_leads", cutoff, due, len(ids), note))


def _anonymous_chat_records(cutoff: dt.datetime) -> list[tuple[Any, Any]]:
    """Records of visitors who never became leads, older than ``cutoff``."""
    linked = select(LeadChatSession.chat_session_id)
    return [
        (
            ConsentRecord,
            and_(
                ConsentRecord.subject_id.is_(None),
                ConsentRecord.recorded_at < cutoff,
                ConsentRecord.chat_session_id.not_in(linked),
            ),
        ),
        (
            CallbackRequest,
            and_(
                CallbackRequest.lead_id.is_(None),
                CallbackRequest.created_at < cutoff,
            ),
        ),
    ]


def _transcripts(
    vault: Vault,
    settings: Settings,
    stores: Sequence[ExternalStore],
    report: RetentionReport,
    now: dt.datetime,
) -> None:
    days = settings.transcript_retention_days
    cutoff = _cutoff(now, days)
    due = removed = 0
    with vault.sessions.begin() as session:
        for model, condition in _anonymous_chat_records(cutoff):
            due += _count(session, model, condition)
            if not report.dry_run:
                result = session.execute(delete(model).where(condition))
                removed += int(getattr(result, "rowcount", 0) or 0)
    tracker = next((s for s in stores if isinstance(s, TrackerStore)), None)
    if tracker is None or tracker.unavailable() is not None:
        report.items.append(
            RetentionItem(
                "transcripts", cutoff, due, removed, "tracker store not reachable"
            )
        )
        return
    due += tracker.count_expired(days)
    removed += 0 if report.dry_run else tracker.purge_expired(days)
    report.items.append(RetentionItem("transcripts", cutoff, due, removed))


def _email_record_statements(
    cutoff: dt.datetime,
) -> list[tuple[Any, ColumnElement[bool]]]:
    try:
        from nurture.models import (
            FINAL_SEND_STATES,
            EnrollmentState,
            NurtureEnrollment,
            NurtureSend,
        )
    except ModuleNotFoundError:
        return []
    finished_send = and_(
        NurtureSend.state.in_([s.value for s in FINAL_SEND_STATES]),
        func.coalesce(NurtureSend.sent_at, NurtureSend.created_at) < cutoff,
    )
    open_sends = select(NurtureSend.id).where(
        NurtureSend.enrollment_id == NurtureEnrollment.id
    )
    finished_enrollment = and_(
        NurtureEnrollment.state != EnrollmentState.ACTIVE.value,
        NurtureEnrollment.updated_at < cutoff,
        ~open_sends.where(~finished_send).exists(),
    )
    return [
        (NurtureSend, finished_send),
        (NurtureEnrollment, finished_enrollment),
    ]


def _old_mail_files(stores: Sequence[ExternalStore], cutoff: dt.datetime) -> list[Path]:
    folder = next((s for s in stores if isinstance(s, MailFolder)), None)
    if folder is None or not folder.folder.is_dir():
        return []
    limit = cutoff.timestamp()
    return [p for p in folder.folder.rglob("*.eml") if p.stat().st_mtime < limit]


def _email_records(
    vault: Vault,
    settings: Settings,
    stores: Sequence[ExternalStore],
    report: RetentionReport,
    now: dt.datetime,
) -> None:
    cutoff = _cutoff(now, settings.retention_email_records_days)
    due = removed = 0
    with vault.sessions.begin() as session:
        for model, condition in _email_record_statements(cutoff):
            due += _count(session, model, condition)
            if not report.dry_run:
                result = session.execute(delete(model).where(condition))
                removed += int(getattr(result, "rowcount", 0) or 0)
    old_files = _old_mail_files(stores, cutoff)
    due += len(old_files)
    if not report.dry_run:
        for path in old_files:
            path.unlink(missing_ok=True)
            removed += 1
    report.items.append(RetentionItem("email_records", cutoff, due, removed))


def _count(session: Session, model: Any, condition: ColumnElement[bool]) -> int:
    query = select(func.count()).select_from(model).where(condition)
    return int(session.scalar(query) or 0)


def _audit_log(
    vault: Vault, settings: Settings, report: RetentionReport, now: dt.datetime
) -> None:
    cutoff = _cutoff(now, settings.retention_audit_log_days)
    with vault.sessions() as session:
        due = _count(session, AuditEvent, AuditEvent.occurred_at < cutoff)
    note = "kept: the hash chain has no starting anchor yet" if due else ""
    report.items.append(RetentionItem("audit_log", cutoff, due, 0, note))


def run_retention(
    vault: Vault,
    *,
    dry_run: bool,
    settings: Settings | None = None,
    stores: Sequence[ExternalStore] | None = None,
    now: dt.datetime | None = None,
    batch: int = DEFAULT_BATCH,
) -> RetentionReport:
    """Apply (or, with ``dry_run``, only count) every retention period.

    Args:
        vault: the open vault.
        dry_run: count what would go; change nothing.
        settings: defaults to :func:`~leads.settings.get_settings`.
        stores: the outside stores (default: tracker, Redis, mail folder).
        now: the reference time (tests); defaults to the current UTC time.
        batch: at most this many unqualified leads are erased per run.

    Returns:
        Per kind: the cutoff, how many records are past it, how many went.
    """
    settings = settings or get_settings()
    if stores is None:
        stores = external_stores(settings, vault.keyring)
    now = now or utcnow()
    report = RetentionReport(dry_run=dry_run)
    _unqualified_leads(vault, settings, stores, report, now, batch)
    _transcripts(vault, settings, stores, report, now)
    _email_records(vault, settings, stores, report, now)
    _audit_log(vault, settings, report, now)
    log.info(
        "retention.ran dry_run=%s due=%s removed=%s",
        dry_run,
        sum(i.due for i in report.items),
        sum(i.removed for i in report.items),
    )
    return report
