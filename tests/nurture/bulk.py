"""Many leads at once, for the crash test and the benchmarks."""

from __future__ import annotations

from leads.consent import ConsentAnswer
from leads.models import Purpose
from leads.vault import LeadInput, Vault


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
