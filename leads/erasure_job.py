"""The erasure job: the durable record that an erasure is under way.

An erasure touches stores that share no transaction (the database, the
tracker store, Redis, the development mail folder). The job row is written
first, in its own transaction, holding only the lead id and the email's
blind index; every step after it is idempotent, so running the erasure again
after a crash completes it. The blind index is cleared when the job
completes and its check comes out clean (the suppression list keeps its own
copy); a job whose check still found the subject is ``unverified`` and keeps
it, so running the erasure again can still find mail addressed to them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Integer, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leads.models import Base, UtcDateTime, utcnow


class ErasureStatus:
    """The states of an erasure job."""

    RUNNING = "running"
    COMPLETED = "completed"
    UNVERIFIED = "unverified"  # the check still found the subject; run again


class ErasureJob(Base):
    """One subject's erasure, from the first step to the verification."""

    __tablename__ = "erasure_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    email_index: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)
    status: Mapped[str] = mapped_column(String(20), default=ErasureStatus.RUNNING)
    channel: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(80))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
