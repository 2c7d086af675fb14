"""Unsubscribing a lead: suppress, withdraw consent, stop every sequence.

Used by the one-click and confirmation endpoints (``nurture.web``) with an
opaque token, and by the privacy operations and the console with a lead id.
The effect is immediate: the sender checks suppression, consent and the
enrollment again inside the transaction that claims a send, just before
the message is committed to the relay.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.orm import Session, sessionmaker

from leads.audit import record_audit
from leads.consent import ConsentAnswer, record_consent
from leads.keyring import KeyRing
from leads.models import Lead, Purpose
from leads.notices import CURRENT_VERSION
from nurture.enrollment import stop_enrollments
from nurture.suppression import suppress_index
from nurture.tokens import open_unsubscribe_token

__all__ = ["unsubscribe_by_token", "unsubscribe_lead", "withdraw_email_consent"]

log = logging.getLogger(__name__)


def unsubscribe_lead(
    session: Session,
    lead_id: uuid.UUID,
    *,
    channel: str = "email_link",
    actor: str = "subject",
    reason: str = "unsubscribed",
) -> bool:
    """Stop all nurture email to a lead, in the caller's transaction.

    Adds the lead's blind index to the suppression list, appends an
    ``email_nurture`` withdrawal to the consent ledger, stops the lead's
    enrollments and cancels its queued sends, and records an audit event.
    Running it again is harmless.

    Args:
        session: the caller's session; the caller commits.
        lead_id: the lead to unsubscribe.
        channel: the consent ledger channel (``email_link``, ``web``,
            ``console``, ``chat``).
        actor: who asked, as an id label (``subject``, ``user:<uuid>``).
        reason: the suppression and stop reason (up to 20 characters).

    Returns:
        False when the lead does not exist (erased or never existed).

    Raises:
        InvalidInputError: ``channel`` is not a known consent channel.
    """
    lead = session.get(Lead, lead_id)
    if lead is None:
        return False
    suppress_index(session, lead.email_index, reason)
    record_consent(
        session,
        ConsentAnswer(
            purpose=Purpose.EMAIL_NURTURE,
            granted=False,
            notice_version=CURRENT_VERSION,
            channel=channel,
        ),
        subject_id=lead_id,
    )
    stopped = stop_enrollments(session, lead_id, reason)
    record_audit(
        session, actor=actor, action="nurture.unsubscribed", target_id=str(lead_id)
    )
    log.info("nurture.unsubscribed channel=%s stopped=%s", channel, stopped)
    return True


def withdraw_email_consent(
    session: Session, lead_id: uuid.UUID, *, channel: str, actor: str
) -> bool:
    """Withdraw ``email_nurture`` consent; same effect as an unsubscribe.

    The address is suppressed too, so a later import or capture cannot
    start emails again without a new, explicit consent and the suppression
    being lifted by the privacy officer.
    """
    return unsubscribe_lead(
        session, lead_id, channel=channel, actor=actor, reason="consent_withdrawn"
    )


def unsubscribe_by_token(
    sessions: sessionmaker[Session], keyring: KeyRing, token: str
) -> bool:
    """Open ``token`` and unsubscribe its lead in a transaction of its own.

    Returns:
        True when a lead was unsubscribed (or already was), False when the
        token is valid but its lead no longer exists.

    Raises:
        UnsubscribeTokenError: the token is malformed or forged.
    """
    lead_id = open_unsubscribe_token(keyring, token)
    with sessions.begin() as session:
        return unsubscribe_lead(session, lead_id)
