"""The table of the visitor self-service pages: single-use link tokens.

A link token is a random secret mailed to the address that asked; only its
SHA-256 is stored, so a copy of the database cannot be used to open links.
A token belongs to a lead (``ON DELETE CASCADE``: erasing the lead removes
its unused links) and to the privacy request it verifies.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from leads.models import Base, UtcDateTime, utcnow


class SelfServiceToken(Base):
    """A single-use, expiring link to export or erase one subject's data."""

    __tablename__ = "selfservice_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    lead_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    privacy_request_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
