"""Fixtures of the nurture tests: leads with or without email consent."""

from __future__ import annotations

import secrets
import uuid

import pytest

from leads.consent import ConsentAnswer
from leads.models import Purpose
from leads.settings import Settings
from leads.vault import LeadInput, Vault


def add_lead(
    vault: Vault,
    *,
    email: str | None = None,
    name: str = "Ana Tan",
    consent: bool = True,
    tier: str = "hot",
    score: int = 80,
    time_zone: str = "Asia/Kuala_Lumpur",
    company_size: str | None = "51-200",
) -> uuid.UUID:
    """Capture one qualified lead (writes its lead.qualified outbox event)."""
    email = email or f"lead{secrets.token_hex(5)}@example.com"
    answers = [
        ConsentAnswer(Purpose.SALES_CONTACT, True, "1", "chat"),
        ConsentAnswer(Purpose.EMAIL_NURTURE, consent, "1", "chat"),
    ]
    with vault.sessions.begin() as session:
        result = vault.capture_lead(
            session,
            LeadInput(
                name=name,
                email=email,
                company="Acme Sdn Bhd",
                job_title="Head of Operations",
                company_size=company_size,
                time_zone=time_zone,
            ),
            score=score,
            tier=tier,
            source="test",
            consents=answers,
        )
    return result.lead_id


@pytest.fixture
def nurture_vault(settings: Settings) -> Vault:
    """An open vault on a migrated SQLite database."""
    return Vault.from_settings(settings)
