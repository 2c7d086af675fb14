"""The consent ledger: append-only answers, one query for "may we?"."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from leads.errors import InvalidInputError
from leads.models import ConsentRecord, LeadChatSession, Purpose, utcnow
from leads.notices import notice

CHANNELS = frozenset({"chat", "import", "web", "email_link", "console"})


@dataclass(frozen=True)
class ConsentAnswer:
    """One answer to a consent question, as given by the subject."""

    purpose: Purpose
    granted: bool
    notice_version: str
    channel: str
    recorded_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise InvalidInputError("channel", f"unknown channel {self.channel!r}")
        notice(self.notice_version)


def record_consent(
    session: Session,
    answer: ConsentAnswer,
    *,
    subject_id: uuid.UUID | None = None,
    chat_session_id: str | None = None,
) -> ConsentRecord:
    """Append one consent answer to the ledger.

    The record stores the notice version and the SHA-256 of that notice's
    exact text. Nothing is ever updated: a withdrawal is a new record with
    ``granted=False``.

    Raises:
        InvalidInputError: neither a subject nor a chat session is named.
        NotFoundError: the notice version does not exist.
    """
    if subject_id is None and chat_session_id is None:
        raise InvalidInputError("consent", "names neither a subject nor a session")
    shown = notice(answer.notice_version)
    record = ConsentRecord(
        subject_id=subject_id,
        chat_session_id=chat_session_id,
        purpose=Purpose(answer.purpose).value,
        granted=answer.granted,
        notice_version=shown.version,
        notice_sha256=shown.sha256,
        channel=answer.channel,
        recorded_at=answer.recorded_at or utcnow(),
    )
    session.add(record)
    session.flush()
    return record


def _subject_filter(session: Session, subject_id: uuid.UUID):  # type: ignore[no-untyped-def]
    chat_sessions = select(LeadChatSession.chat_session_id).where(
        LeadChatSession.lead_id == subject_id
    )
    return or_(
        ConsentRecord.subject_id == subject_id,
        ConsentRecord.chat_session_id.in_(chat_sessions),
    )


def consent_history(session: Session, subject_id: uuid.UUID) -> list[ConsentRecord]:
    """Return every consent record of a subject, oldest first."""
    query = (
        select(ConsentRecord)
        .where(_subject_filter(session, subject_id))
        .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
    )
    return list(session.scalars(query))


def may_use(session: Session, subject_id: uuid.UUID, purpose: Purpose) -> bool:
    """Answer "may we use this subject's data for ``purpose`` now?".

    The latest answer for the purpose decides; no answer means no.
    """
    query = (
        select(ConsentRecord.granted)
        .where(_subject_filter(session, subject_id))
        .where(ConsentRecord.purpose == Purpose(purpose).value)
        .order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc())
        .limit(1)
    )
    return bool(session.scalar(query))
