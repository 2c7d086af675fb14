"""Enrollments: who follows which sequence, and stopping them.

Leads are enrolled only from ``lead.qualified`` outbox events, and only
when the consent ledger says ``email_nurture`` is granted now and the
address is not suppressed. Stopping an enrollment also cancels any send of
it that a worker has not claimed yet.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import update
from sqlalchemy.orm import Session

from leads.models import utcnow
from nurture.models import EnrollmentState, NurtureEnrollment, NurtureSend, SendState

__all__ = ["stop_enrollments"]

log = logging.getLogger(__name__)


def stop_enrollments(session: Session, lead_id: uuid.UUID, reason: str) -> int:
    """Stop every active enrollment of a lead, in the caller's transaction.

    Queued sends of the lead are cancelled in the same transaction. A send
    a worker is already committing to the relay cannot be recalled; the
    worker's claim and this update lock the same rows, so each send is
    either claimed before the stop or cancelled by it, never both.

    Args:
        session: the caller's session; the caller commits.
        lead_id: the lead whose follow-ups end.
        reason: why, e.g. ``unsubscribed``, ``replied``, ``status_changed``
            (up to 32 characters, no personal data).

    Returns:
        How many enrollments were stopped.
    """
    now = utcnow()
    result = session.execute(
        update(NurtureEnrollment)
        .where(NurtureEnrollment.lead_id == lead_id)
        .where(NurtureEnrollment.state == EnrollmentState.ACTIVE)
        .values(
            state=EnrollmentState.STOPPED,
            stop_reason=reason[:32],
            next_due_at=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(NurtureSend)
        .where(NurtureSend.lead_id == lead_id)
        .where(NurtureSend.state == SendState.QUEUED)
        .values(state=SendState.CANCELLED, due_at=None)
        .execution_options(synchronize_session=False)
    )
    stopped = int(getattr(result, "rowcount", 0) or 0)
    log.info("nurture.enrollments.stopped count=%s reason=%s", stopped, reason)
    return stopped
