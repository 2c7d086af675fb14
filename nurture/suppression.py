"""The suppression list as nurture uses it: by blind index, never by address."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from leads.models import Lead, Suppression, utcnow

__all__ = ["is_lead_suppressed", "suppress_index"]


def suppress_index(session: Session, email_index: bytes, reason: str) -> None:
    """Add a blind index to the suppression list once, race-free.

    Two transactions suppressing the same address at once both succeed;
    the first reason is kept.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(Suppression)
        .values(email_index=email_index, reason=reason[:20], created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["email_index"])
    )


def is_lead_suppressed(session: Session, lead_id: uuid.UUID) -> bool:
    """Whether the lead's address is suppressed, or the lead no longer exists."""
    query = (
        select(Suppression.id)
        .join(Lead, Lead.email_index == Suppression.email_index)
        .where(Lead.id == lead_id)
    )
    if session.scalar(query) is not None:
        return True
    return session.get(Lead, lead_id) is None
