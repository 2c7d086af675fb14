"""Single-use, expiring link tokens of the self-service pages.

A token is 256 random bits (``secrets.token_urlsafe(32)``) mailed to the
address that asked. The database keeps only its SHA-256, so neither a
database copy nor a log of queries can open a link. Using a token is one
conditional ``UPDATE`` (unused and unexpired, then marked used), so two
concurrent clicks cannot both succeed.

Limits: the token travels in the link's path, so it is in the visitor's
browser history and the console's access log if that logs paths; it is
useless after its first use or its expiry. The pages holding it send
``Referrer-Policy: no-referrer`` and load nothing from elsewhere.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from console.selfservice_models import SelfServiceToken
from leads.models import utcnow

TOKEN_BYTES = 32
MAX_TOKEN_CHARS = 100


class LinkKind(enum.StrEnum):
    """What a link lets its holder do."""

    ACCESS = "access"
    ERASURE = "erasure"


def hash_token(token: str) -> bytes:
    """Return the stored form of a token (SHA-256 of its text)."""
    return hashlib.sha256(token.encode("utf-8", "replace")).digest()


def issue_link_token(
    session: Session,
    *,
    kind: LinkKind,
    lead_id: uuid.UUID,
    privacy_request_id: int | None,
    valid_for: dt.timedelta,
) -> str:
    """Store a new token's hash and return the token to mail.

    The plaintext token exists only in the return value; it is not logged.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    session.add(
        SelfServiceToken(
            token_hash=hash_token(token),
            kind=kind.value,
            lead_id=lead_id,
            privacy_request_id=privacy_request_id,
            created_at=now,
            expires_at=now + valid_for,
        )
    )
    session.flush()
    return token


def _well_formed(token: str) -> bool:
    return 0 < len(token) <= MAX_TOKEN_CHARS and token.isascii()


def find_usable_token(session: Session, token: str) -> SelfServiceToken | None:
    """Return the token's row if it is unused and unexpired, else None.

    Looking does not use the token up (mail scanners open links).
    """
    if not _well_formed(token):
        return None
    return session.scalar(
        select(SelfServiceToken)
        .where(SelfServiceToken.token_hash == hash_token(token))
        .where(SelfServiceToken.used_at.is_(None))
        .where(SelfServiceToken.expires_at > utcnow())
    )


def use_token(session: Session, token: str) -> SelfServiceToken | None:
    """Mark a token used and return its row; None if unusable.

    Succeeds at most once per token, also under concurrent requests: the
    row is claimed by a conditional update whose row count decides.
    """
    if not _well_formed(token):
        return None
    token_hash = hash_token(token)
    now = utcnow()
    result = session.execute(
        update(SelfServiceToken)
        .where(SelfServiceToken.token_hash == token_hash)
        .where(SelfServiceToken.used_at.is_(None))
        .where(SelfServiceToken.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    return session.scalar(
        select(SelfServiceToken).where(SelfServiceToken.token_hash == token_hash)
    )
