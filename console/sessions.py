"""Server-side console sessions.

The cookie carries a 128-bit random id; the table keeps only its keyed hash,
so a copy of the table cannot be replayed as cookies. A new id is issued at
every step up of the sign-in (password, then TOTP), which defeats session
fixation. Sessions end after an idle timeout and an absolute lifetime, and
can be ended server-side (sign-out, an admin, disabling the user).
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from console.access import Role
from console.models import ConsoleSession, ConsoleUser
from console.sealing import keyed_hash
from leads.keyring import KeyRing
from leads.models import utcnow
from leads.settings import Settings

SESSION_ID_BYTES = 16
HASH_PURPOSE = "session-id"
STAGE_PASSWORD = "password"  # noqa: S105 - a stage name, not a secret
STAGE_ENROLL = "enroll"
STAGE_FULL = "full"
LAST_SEEN_GRANULARITY = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class Visitor:
    """Who is behind a request's session cookie."""

    user_id: uuid.UUID
    role: Role
    stage: str
    session_hash: str
    mfa_verified_at: dt.datetime | None

    @property
    def signed_in(self) -> bool:
        """Whether the sign-in (password and TOTP) is complete."""
        return self.stage == STAGE_FULL

    @property
    def actor(self) -> str:
        """The audit label of this user."""
        return f"user:{self.user_id}"


def cookie_name(tls: bool) -> str:
    """Name of the session cookie (``__Host-`` prefixed over TLS)."""
    return "__Host-lg_session" if tls else "lg_session"


def session_hash(keyring: KeyRing, token: str) -> str:
    """Return the stored form of a session id."""
    return keyed_hash(keyring, HASH_PURPOSE, token)


def start_session(
    session: Session,
    keyring: KeyRing,
    user: ConsoleUser,
    stage: str,
    *,
    replaces: str | None = None,
) -> str:
    """Create a session for ``user`` and return its id (for the cookie).

    ``replaces`` names the hash of the session this one succeeds; it is
    deleted, so the old id stops working the moment the new one is issued.
    """
    if replaces is not None:
        session.execute(
            delete(ConsoleSession).where(ConsoleSession.id_hash == replaces)
        )
    token = secrets.token_urlsafe(SESSION_ID_BYTES)
    now = utcnow()
    session.add(
        ConsoleSession(
            id_hash=session_hash(keyring, token),
            user_id=user.id,
            stage=stage,
            created_at=now,
            last_seen_at=now,
            mfa_verified_at=now if stage == STAGE_FULL else None,
        )
    )
    session.flush()
    return token


def load_visitor(
    session: Session, keyring: KeyRing, settings: Settings, token: str
) -> Visitor | None:
    """Return the visitor of a session id, or None when it is not valid.

    A session is not valid when unknown, idle too long, older than its
    absolute lifetime, or its user is disabled; expired ones are deleted.
    Half-finished sign-ins (password or enrollment stage) get ten minutes.
    """
    if not token or len(token) > 64:
        return None
    hashed = session_hash(keyring, token)
    row = session.get(ConsoleSession, hashed)
    if row is None:
        return None
    user = session.get(ConsoleUser, row.user_id)
    now = utcnow()
    idle = dt.timedelta(minutes=settings.console_session_idle_minutes)
    lifetime = dt.timedelta(hours=settings.console_session_hours)
    if row.stage != STAGE_FULL:
        idle = lifetime = min(idle, dt.timedelta(minutes=10))
    expired = now - row.last_seen_at > idle or now - row.created_at > lifetime
    if user is None or user.disabled or expired:
        session.delete(row)
        session.flush()
        return None
    if now - row.last_seen_at > LAST_SEEN_GRANULARITY:
        row.last_seen_at = now
    return Visitor(
        user_id=user.id,
        role=Role(user.role),
        stage=row.stage,
        session_hash=hashed,
        mfa_verified_at=row.mfa_verified_at,
    )


def mark_mfa_verified(session: Session, session_hash_value: str) -> None:
    """Record that the session's user just entered a valid second factor."""
    row = session.get(ConsoleSession, session_hash_value)
    if row is not None:
        row.mfa_verified_at = utcnow()


def end_session(session: Session, session_hash_value: str) -> None:
    """End one session (sign-out)."""
    session.execute(
        delete(ConsoleSession).where(ConsoleSession.id_hash == session_hash_value)
    )


def end_user_sessions(session: Session, user_id: uuid.UUID) -> int:
    """End every session of a user; return how many there were."""
    hashes = list(
        session.scalars(
            select(ConsoleSession.id_hash).where(ConsoleSession.user_id == user_id)
        )
    )
    session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user_id))
    return len(hashes)


def purge_expired_sessions(session: Session, settings: Settings) -> int:
    """Delete sessions past their absolute lifetime; return the count."""
    cutoff = utcnow() - dt.timedelta(hours=settings.console_session_hours)
    result = session.execute(
        delete(ConsoleSession).where(ConsoleSession.created_at < cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)
