"""Tables of the nurture package: enrollments and send records.

Both reference ``leads.id`` with ``ON DELETE CASCADE``, so erasing a lead
deletes its enrollments and its send records with it. Neither table holds
personal data: recipients, names and bodies exist only in a worker's memory
while a message is rendered and sent.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leads.models import Base, UtcDateTime, utcnow

__all__ = ["EnrollmentState", "NurtureEnrollment", "NurtureSend", "SendState"]


class EnrollmentState(enum.StrEnum):
    """Where a lead stands in one sequence."""

    ACTIVE = "active"
    COMPLETED = "completed"
    STOPPED = "stopped"


class SendState(enum.StrEnum):
    """The life of one send record (one step for one enrollment).

    ``queued`` waits for a worker (``due_at`` says from when); ``sending``
    was claimed by a worker just before the end of the SMTP DATA phase;
    ``sent`` was accepted by the relay; ``unconfirmed`` was claimed but its
    worker died before reading the relay's reply (counted as delivered and
    never sent again); ``skipped`` did not meet the step's conditions;
    ``cancelled`` was stopped by an unsubscribe, a withdrawal or an exit
    condition; ``bounced`` was refused permanently; ``failed`` ran out of
    attempts on temporary failures.
    """

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    UNCONFIRMED = "unconfirmed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    BOUNCED = "bounced"
    FAILED = "failed"


FINAL_SEND_STATES = frozenset(
    {
        SendState.SENT,
        SendState.UNCONFIRMED,
        SendState.SKIPPED,
        SendState.CANCELLED,
        SendState.BOUNCED,
        SendState.FAILED,
    }
)


class NurtureEnrollment(Base):
    """One lead following one sequence.

    ``next_due_at`` is set only while the enrollment waits for its next
    step; the beat tick claims rows whose time has come and clears it, so a
    row is claimed once however many ticks overlap.
    """

    __tablename__ = "nurture_enrollments"
    __table_args__ = (UniqueConstraint("lead_id", "sequence"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    sequence: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=EnrollmentState.ACTIVE)
    next_step: Mapped[int] = mapped_column(Integer, default=0)
    next_due_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, index=True)
    status_at_enrollment: Mapped[str] = mapped_column(String(20))
    stop_reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UtcDateTime, default=utcnow, onupdate=utcnow
    )


class NurtureSend(Base):
    """The one send record of a step of an enrollment.

    The unique ``(enrollment_id, step)`` pair is written before any SMTP
    traffic, and the Message-ID is fixed when the row is created, so every
    retry of the step carries the same Message-ID and no step can be sent
    twice by two workers.
    """

    __tablename__ = "nurture_sends"
    __table_args__ = (UniqueConstraint("enrollment_id", "step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("nurture_enrollments.id", ondelete="CASCADE")
    )
    lead_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[str] = mapped_column(String(128), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=SendState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, index=True)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
