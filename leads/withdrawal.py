"""Consent withdrawal from any channel, effective at once.

:func:`withdraw_consent` is what the chat ("stop emailing me", "don't
contact me"), the email link and the console call. In the caller's
transaction it appends the withdrawal to the consent ledger, which every
processing step consults just before acting (the nurture sender checks
:func:`leads.consent.may_use` inside the transaction that claims a send),
and then stops what is already queued:

- ``email_nurture``: the nurture package's unsubscribe (suppression entry,
  enrollments stopped, queued sends cancelled);
- ``sales_contact``: open callback requests of the lead are closed, and a
  ``consent.withdrawn`` outbox event tells other consumers.

Limits: a message a worker has already handed to the SMTP relay cannot be
recalled; a salesperson who already revealed the lead's details has them
on screen until the page is reloaded.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import update
from sqlalchemy.orm import Session

from leads.audit import record_audit
from leads.consent import ConsentAnswer, record_consent
from leads.errors import NotFoundError
from leads.models import CallbackRequest, Lead, OutboxEvent, Purpose
from leads.notices import CURRENT_VERSION

log = logging.getLogger(__name__)

__all__ = ["withdraw_consent"]


def _withdraw_email(
    session: Session, lead_id: uuid.UUID, *, channel: str, actor: str
) -> None:
    from nurture.unsubscribe import withdraw_email_consent

    withdraw_email_consent(session, lead_id, channel=channel, actor=actor)


def _withdraw_sales(
    session: Session, lead_id: uuid.UUID, *, channel: str, actor: str
) -> None:
    record_consent(
        session,
        ConsentAnswer(Purpose.SALES_CONTACT, False, CURRENT_VERSION, channel),
        subject_id=lead_id,
    )
    session.execute(
        update(CallbackRequest)
        .where(CallbackRequest.lead_id == lead_id)
        .where(CallbackRequest.status == "open")
        .values(status="withdrawn")
        .execution_options(synchronize_session=False)
    )
    # Without consent to be contacted the lead is no longer a sales lead:
    # it leaves the sales queue (which lists qualified leads only) and the
    # unqualified-lead retention period applies to it from now on.
    session.execute(
        update(Lead)
        .where(Lead.id == lead_id)
        .values(qualified_at=None)
        .execution_options(synchronize_session=False)
    )
    record_audit(
        session,
        actor=actor,
        action="consent.withdrawn.sales_contact",
        target_id=str(lead_id),
    )


def withdraw_consent(
    session: Session,
    lead_id: uuid.UUID,
    purpose: Purpose,
    *,
    channel: str,
    actor: str,
) -> None:
    """Withdraw a subject's consent to one purpose, in the caller's transaction.

    Args:
        session: the caller's session; the caller commits.
        lead_id: the subject.
        purpose: ``email_nurture`` or ``sales_contact``.
        channel: the consent ledger channel (``chat``, ``email_link``,
            ``web``, ``console``).
        actor: who asked, as an id label (``chat``, ``subject``,
            ``user:<uuid>``).

    Raises:
        NotFoundError: the lead does not exist (erased or never existed).
        InvalidInputError: the channel is unknown.
    """
    if session.get(Lead, lead_id) is None:
        raise NotFoundError("no such subject")
    purpose = Purpose(purpose)
    if purpose is Purpose.EMAIL_NURTURE:
        _withdraw_email(session, lead_id, channel=channel, actor=actor)
    else:
        _withdraw_sales(session, lead_id, channel=channel, actor=actor)
    session.add(
        OutboxEvent(
            topic="consent.withdrawn",
            aggregate_id=lead_id,
            payload={"lead_id": str(lead_id), "purpose": purpose.value},
        )
    )
    session.flush()
    log.info("consent.withdrawn purpose=%s channel=%s", purpose.value, channel)
