"""Many leads or enrollments at once, for the crash test and the benchmarks."""

from __future__ import annotations

import datetime as dt
import os
import uuid

from sqlalchemy import insert
from sqlalchemy.orm import Session

from leads.consent import ConsentAnswer
from leads.models import Lead, Purpose, utcnow
from leads.vault import LeadInput, Vault
from nurture.models import NurtureEnrollment


def add_leads(vault: Vault, count: int, prefix: str = "bulk") -> None:
    """Capture ``count`` qualified leads with email consent, in batches."""
    answers = [
        ConsentAnswer(Purpose.SALES_CONTACT, True, "1", "chat"),
        ConsentAnswer(Purpose.EMAIL_NURTURE, True, "1", "chat"),
    ]
    for start in range(0, count, 500):
        with vault.sessions.begin() as session:
            for number in range(start, min(count, start + 500)):
                vault.capture_lead(
                    session,
                    LeadInput(
                        name=f"Bulk Lead{number}",
                        email=f"{prefix}{number}@example.com",
                        company="Acme Sdn Bhd",
                        job_title="Head of Operations",
                    ),
                    score=80,
                    tier="hot",
                    source="bench",
                    consents=answers,
                )


def add_bare_enrollments(
    session: Session, count: int, *, due: bool, batch: int = 10_000
) -> None:
    """Insert leads without personal rows, each with one enrollment.

    For scheduling tests and benchmarks only: nothing here can be sent.
    ``due`` enrollments are due now; the others in a year.
    """
    now = utcnow()
    when = now - dt.timedelta(seconds=1) if due else now + dt.timedelta(days=365)
    for start in range(0, count, batch):
        size = min(batch, count - start)
        ids = [uuid.uuid4() for _ in range(size)]
        session.execute(
            insert(Lead),
            [
                {
                    "id": lead_id,
                    "status": "new",
                    "tier": "hot",
                    "score": 80,
                    "source": "bench",
                    "email_index": os.urandom(32),
                    "time_zone": "Asia/Kuala_Lumpur",
                    "created_at": now,
                    "updated_at": now,
                }
                for lead_id in ids
            ],
        )
        session.execute(
            insert(NurtureEnrollment),
            [
                {
                    "lead_id": lead_id,
                    "sequence": "bench",
                    "state": "active",
                    "next_step": 0,
                    "next_due_at": when,
                    "status_at_enrollment": "new",
                    "created_at": now,
                    "updated_at": now,
                }
                for lead_id in ids
            ],
        )
