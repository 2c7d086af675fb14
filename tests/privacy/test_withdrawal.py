"""Withdrawing consent stops processing for that purpose at once."""

from __future__ import annotations

from sqlalchemy import select

from leads.consent import may_use
from leads.models import CallbackRequest, OutboxEvent, Purpose
from leads.withdrawal import withdraw_consent
from tests.privacy.conftest import World


def test_email_withdrawal_from_chat_stops_nurture_now(world: World) -> None:
    from nurture.models import NurtureEnrollment, NurtureSend, SendState
    from nurture.suppression import is_lead_suppressed

    subject = world.subject
    assert subject is not None
    with world.vault.sessions.begin() as session:
        enrollment = session.scalar(
            select(NurtureEnrollment).where(
                NurtureEnrollment.lead_id == subject.lead_id
            )
        )
        assert enrollment is not None
        enrollment.state = "active"
        session.add(
            NurtureSend(
                enrollment_id=enrollment.id,
                lead_id=subject.lead_id,
                step=2,
                message_id="queued-step@leadguard.example",
                state=SendState.QUEUED,
            )
        )
    with world.vault.sessions.begin() as session:
        withdraw_consent(
            session,
            subject.lead_id,
            Purpose.EMAIL_NURTURE,
            channel="chat",
            actor="chat",
        )
    with world.vault.sessions() as session:
        assert not may_use(session, subject.lead_id, Purpose.EMAIL_NURTURE)
        assert may_use(session, subject.lead_id, Purpose.SALES_CONTACT)
        assert is_lead_suppressed(session, subject.lead_id)
        queued = session.scalar(select(NurtureSend.state).where(NurtureSend.step == 2))
        assert queued == SendState.CANCELLED
        state = session.scalar(
            select(NurtureEnrollment.state).where(
                NurtureEnrollment.lead_id == subject.lead_id
            )
        )
        assert state == "stopped"


def test_sales_withdrawal_closes_callbacks_and_tells_consumers(world: World) -> None:
    subject = world.subject
    assert subject is not None
    with world.vault.sessions.begin() as session:
        session.add(CallbackRequest(lead_id=subject.lead_id))
    with world.vault.sessions.begin() as session:
        withdraw_consent(
            session,
            subject.lead_id,
            Purpose.SALES_CONTACT,
            channel="chat",
            actor="chat",
        )
    with world.vault.sessions() as session:
        assert not may_use(session, subject.lead_id, Purpose.SALES_CONTACT)
        assert session.scalars(select(CallbackRequest.status)).all() == ["withdrawn"]
        topics = session.scalars(
            select(OutboxEvent.topic).where(OutboxEvent.aggregate_id == subject.lead_id)
        ).all()
        assert "consent.withdrawn" in topics
