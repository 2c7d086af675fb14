"""Alerting on users who reveal or export unusually many leads.

After every reveal or export the number of distinct leads the user
revealed or exported in the last hour is counted from the audit log. When
it reaches ``console_anomaly_leads_per_hour`` a ``user.anomaly`` audit event
and a
warning log line are written, the admins are emailed (after the
transaction commits), and, when ``console_anomaly_lock`` is set, the user is
disabled, which ends their sessions. The alert names user ids and counts,
never lead data.

Limits: at most one alert per user and hour; every reveal and exported
lead is in the audit trail regardless. The count runs over the audit log
(indexed by action), which is fine for thousands of events an hour.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from console.models import ConsoleUser
from console.users import admins_emails, set_disabled
from leads.audit import record_audit
from leads.keyring import KeyRing
from leads.models import AuditEvent, utcnow
from leads.settings import Settings

log = logging.getLogger(__name__)

WINDOW = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Alert:
    """An anomaly to tell the admins about."""

    user_id: uuid.UUID
    count: int
    locked: bool
    recipients: tuple[str, ...]


def leads_seen_in_last_hour(session: Session, actor: str) -> int:
    """Count the distinct leads ``actor`` revealed or exported in the last hour."""
    since = utcnow() - WINDOW
    return int(
        session.scalar(
            select(func.count(func.distinct(AuditEvent.target_id)))
            .where(AuditEvent.actor == actor)
            .where(AuditEvent.occurred_at >= since)
            .where(
                or_(
                    AuditEvent.action.like("lead.revealed.%"),
                    AuditEvent.action == "lead.exported",
                )
            )
        )
        or 0
    )


def _alerted_in_last_hour(session: Session, user_id: uuid.UUID) -> bool:
    since = utcnow() - WINDOW
    found = session.scalar(
        select(AuditEvent.id)
        .where(AuditEvent.action == "user.anomaly")
        .where(AuditEvent.target_id == str(user_id))
        .where(AuditEvent.occurred_at >= since)
        .limit(1)
    )
    return found is not None


def check_for_anomaly(
    session: Session, keyring: KeyRing, settings: Settings, user_id: uuid.UUID
) -> Alert | None:
    """Raise an alert when the user reached the threshold this hour.

    Call inside the transaction of a reveal or export, after its audit
    events; send the returned alert with :func:`send_alert` after it
    commits. At most one alert per user and hour.
    """
    count = leads_seen_in_last_hour(session, f"user:{user_id}")
    if count < settings.console_anomaly_leads_per_hour:
        return None
    if _alerted_in_last_hour(session, user_id):
        return None
    record_audit(session, actor="system", action="user.anomaly", target_id=str(user_id))
    log.warning("console.anomaly user=%s leads_last_hour=%s", user_id, count)
    user = session.get(ConsoleUser, user_id)
    locked = False
    if settings.console_anomaly_lock and user is not None:
        set_disabled(session, user, True, actor="system")
        locked = True
    return Alert(user_id, count, locked, tuple(admins_emails(session, keyring)))


def send_alert(alert: Alert, settings: Settings) -> int:
    """Email the admins about an alert; return how many emails were sent.

    A missing or failing mail sender is logged and does not fail the
    user's request: the audit event and log line already exist.
    """
    try:
        from nurture.transactional import send_transactional_email
    except ModuleNotFoundError as exc:
        if exc.name not in {"nurture", "nurture.transactional"}:
            raise
        log.warning("console.alert_not_emailed reason=sender_unavailable")
        return 0
    subject = "leadguard alert: unusual access to leads"
    text = (
        f"User {alert.user_id} revealed or exported {alert.count} leads in the "
        "last hour, above the alert threshold.\n"
        + ("The account has been disabled.\n" if alert.locked else "")
        + "Review the audit trail in the console.\n"
    )
    sent = 0
    for address in alert.recipients:
        try:
            send_transactional_email(
                to=address, subject=subject, text=text, settings=settings
            )
        except Exception as exc:  # a mail failure must not fail the request
            log.error("console.alert_email_failed type=%s", type(exc).__name__)
            continue
        sent += 1
    return sent
