"""Typed SQLAlchemy models of the vault.

Personal fields exist only as sealed bytes (see :mod:`leads.field_cipher`);
the only way to write or read them is :class:`leads.vault.Vault`. Tables of
other packages reference ``leads.id`` with ``ON DELETE CASCADE`` so that
erasing a lead removes everything hanging off it.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Return the current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: dt.datetime | None, dialect: Any
    ) -> dt.datetime | None:
        """Refuse naive datetimes; store aware ones in UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use UTC")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Any
    ) -> dt.datetime | None:
        """Read naive values (SQLite) as UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of every leadguard table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class LeadStatus(enum.StrEnum):
    """Where a lead stands with the sales team."""

    NEW = "new"
    CONTACTED = "contacted"
    MEETING = "meeting"
    WON = "won"
    LOST = "lost"
    DISQUALIFIED = "disqualified"


class Tier(enum.StrEnum):
    """The qualification tier a score falls into."""

    HOT = "hot"
    WARM = "warm"
    COLD = "cold"
    DISQUALIFIED = "disqualified"


class Purpose(enum.StrEnum):
    """Purposes a subject can consent to."""

    SALES_CONTACT = "sales_contact"
    EMAIL_NURTURE = "email_nurture"


PERSONAL_FIELDS = ("name", "email", "phone", "company", "job_title", "need")


class Lead(Base):
    """A prospective customer; its personal fields live in LeadPersonal."""

    __tablename__ = "leads"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    status: Mapped[str] = mapped_column(String(20), default=LeadStatus.NEW)
    tier: Mapped[str] = mapped_column(String(16), index=True)
    score: Mapped[int] = mapped_column(Integer, index=True)
    source: Mapped[str] = mapped_column(String(40))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    email_index: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    company_size: Mapped[str | None] = mapped_column(String(20))
    timeline: Mapped[str | None] = mapped_column(String(20))
    budget: Mapped[str | None] = mapped_column(String(20))
    time_zone: Mapped[str] = mapped_column(String(64), default="Asia/Kuala_Lumpur")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UtcDateTime, default=utcnow, onupdate=utcnow
    )
    qualified_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class LeadPersonal(Base):
    """The sealed personal fields of one lead (one row per lead)."""

    __tablename__ = "lead_personal"

    lead_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[bytes | None] = mapped_column(LargeBinary)
    email: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone: Mapped[bytes | None] = mapped_column(LargeBinary)
    company: Mapped[bytes | None] = mapped_column(LargeBinary)
    job_title: Mapped[bytes | None] = mapped_column(LargeBinary)
    need: Mapped[bytes | None] = mapped_column(LargeBinary)


class SubjectKey(Base):
    """A subject's data key, wrapped by a key-encryption key.

    Deleting this row is crypto-shredding: every live copy of a value sealed
    under the data key becomes unreadable. A backup taken before the deletion
    still holds the wrapped key, readable until the KEK that wrapped it is
    retired (see the README's "Backups and restore").
    """

    __tablename__ = "subject_keys"

    subject_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True
    )
    kek_version: Mapped[int] = mapped_column(Integer, index=True)
    key_version: Mapped[int] = mapped_column(Integer, default=1)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    rewrapped_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class KeyCheck(Base):
    """A value sealed under each KEK (and the root) to detect a wrong ring."""

    __tablename__ = "key_checks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)


class LeadChatSession(Base):
    """Links an opaque chat session id to the lead it produced."""

    __tablename__ = "lead_chat_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    chat_session_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class ConsentRecord(Base):
    """One consent answer; append-only (a withdrawal is a new record).

    Before a lead exists, a record names only the chat session; the lead is
    linked to that session when it is captured.
    """

    __tablename__ = "consent_records"
    __table_args__ = (Index("ix_consent_subject_purpose", "subject_id", "purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    chat_session_id: Mapped[str | None] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    granted: Mapped[bool] = mapped_column(Boolean)
    notice_version: Mapped[str] = mapped_column(String(20))
    notice_sha256: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class AuditEvent(Base):
    """One entry of the append-only, hash-chained audit log."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_id: Mapped[str | None] = mapped_column(String(64), index=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class OutboxEvent(Base):
    """A domain event written in the same transaction as its cause."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_pending", "processed_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(String(60))
    aggregate_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class Suppression(Base):
    """An address that must never be emailed, kept only as its blind index."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email_index: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    reason: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class CallbackRequest(Base):
    """A visitor asked to talk to a human; shown in the sales queue."""

    __tablename__ = "callback_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    chat_session_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class PrivacyRequest(Base):
    """An access or erasure request, from chat, the web or the console."""

    __tablename__ = "privacy_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="received")
    channel: Mapped[str] = mapped_column(String(20))
    lead_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    chat_session_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
