"""The seam between the self-service pages and the privacy operations.

The pages only verify who is asking (a single-use link mailed to the
address); what an access or erasure request covers is decided by the
privacy operations: :func:`leads.subject_access.export_subject_everywhere`
and :func:`leads.erasure.erase_subject_everywhere` (the vault, every linked
table, the tracker store, Redis and the mail folder).

Each request is a :class:`~leads.models.PrivacyRequest` on the ``web``
channel: ``awaiting_verification`` when the link is mailed, ``verified``
when the link is used, ``completed`` when the export or erasure finished.
The audit chain records each step with ids only.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy.orm import Session

from leads.audit import record_audit
from leads.erasure import erase_subject_everywhere
from leads.models import PrivacyRequest, utcnow
from leads.settings import Settings
from leads.subject_access import export_subject_everywhere
from leads.vault import Vault

log = logging.getLogger(__name__)

ACTOR = "visitor"
CHANNEL = "web"


def open_request(session: Session, *, kind: str, lead_id: uuid.UUID) -> int:
    """Record a web access or erasure request awaiting email verification."""
    request = PrivacyRequest(
        kind=kind, status="awaiting_verification", channel=CHANNEL, lead_id=lead_id
    )
    session.add(request)
    session.flush()
    record_audit(
        session, actor=ACTOR, action=f"privacy.{kind}.requested", target_id=str(lead_id)
    )
    return request.id


def mark_request(session: Session, request_id: int | None, status: str) -> None:
    """Move a request to ``status`` (``verified`` or ``completed``)."""
    if request_id is None:
        return
    request = session.get(PrivacyRequest, request_id)
    if request is None:
        return
    request.status = status
    if status == "completed":
        request.completed_at = utcnow()


def export_for_visitor(
    vault: Vault, settings: Settings, lead_id: uuid.UUID, request_id: int | None
) -> dict[str, Any]:
    """Return everything held about the subject, JSON-ready.

    Raises:
        NotFoundError: the subject no longer exists.
    """
    document = export_subject_everywhere(vault, lead_id, actor=ACTOR, settings=settings)
    with vault.sessions.begin() as session:
        mark_request(session, request_id, "completed")
    log.info("selfservice.exported request=%s", request_id)
    return document


def erase_for_visitor(
    vault: Vault, settings: Settings, lead_id: uuid.UUID, request_id: int | None
) -> None:
    """Erase the subject everywhere and complete the request.

    Safe to repeat: an erasure interrupted half-way completes on the next
    run (``leadguard`` resumes unfinished erasure jobs).

    Raises:
        NotFoundError: no lead and no erasure job with this id exist.
    """
    outcome = erase_subject_everywhere(
        vault, lead_id, actor=ACTOR, channel=CHANNEL, settings=settings
    )
    with vault.sessions.begin() as session:
        mark_request(session, request_id, "completed")
    log.info(
        "selfservice.erased request=%s removed=%s",
        request_id,
        outcome.total_removed,
    )
