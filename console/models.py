"""Tables of the sales console: users, sessions, recovery codes, notes.

A user's email address and TOTP secret are sealed (AES-256-GCM under keys
derived from the key ring, bound to table, column and row); the address is
found through a keyed blind index. Session ids, setup tokens and recovery
codes are stored only as keyed hashes. Lead notes are sealed under the lead's
own data key, so erasing the lead shreds them with everything else.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from leads.models import Base, Lead, UtcDateTime, utcnow


class ConsoleUser(Base):
    """A member of staff who signs in to the console."""

    __tablename__ = "console_users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email_index: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    email_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    setup_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    setup_expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class ConsoleSession(Base):
    """A server-side session; the cookie holds the id, the table its hash.

    ``stage`` is ``password`` (password checked, TOTP pending), ``enroll``
    (TOTP enrollment pending) or ``full`` (signed in).
    """

    __tablename__ = "console_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("console_users.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    mfa_verified_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class RecoveryCode(Base):
    """One single-use recovery code, kept as a keyed hash."""

    __tablename__ = "console_recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("console_users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class LeadNote(Base):
    """A salesperson's note on a lead, sealed under the lead's data key."""

    __tablename__ = "lead_notes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    lead_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("console_users.id", ondelete="SET NULL")
    )
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


# The queue walks each tier's leads by score, then age (console.queue); the
# index belongs to the vault's table but exists for the console's query.
QUEUE_INDEX = Index("ix_leads_queue", Lead.tier, Lead.score.desc(), Lead.created_at)
