"""Fixtures of the console tests: an application, users with known TOTP."""

from __future__ import annotations

import datetime as dt
import re
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from argon2 import PasswordHasher
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning

from console import passwords
from console.access import Role
from console.app import create_app
from console.users import complete_setup_password, create_user, totp_secret
from leads.consent import ConsentAnswer
from leads.keyring import new_keyring_document, write_keyring_file
from leads.migrate import upgrade
from leads.models import Lead, LeadStatus, Purpose
from leads.settings import Settings, load_settings
from leads.vault import LeadInput, Vault

with warnings.catch_warnings():
    # starlette's test client prefers httpx2; httpx works the same for us.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

PASSWORD = "correct horse battery staple"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@dataclass
class StaffMember:
    """A console user made for a test, with what it takes to sign in."""

    user_id: uuid.UUID
    email: str
    role: Role
    secret: str

    def code(self, offset_steps: int = 0) -> str:
        """A TOTP code of the current (or a neighbouring) time step."""
        moment = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30 * offset_steps)
        return pyotp.TOTP(self.secret).at(moment)


def make_staff(vault: Vault, settings: Settings, role: Role, email: str) -> StaffMember:
    """Create an enrolled user directly (setup link and enrollment skipped)."""
    with vault.sessions.begin() as session:
        user, _ = create_user(
            session, vault.keyring, settings, email=email, role=role, actor="test"
        )
        complete_setup_password(session, vault.keyring, user, PASSWORD)
        user.totp_confirmed = True
        secret = totp_secret(vault.keyring, user)
        return StaffMember(user.id, email, role, secret)


def make_lead(
    vault: Vault,
    email: str,
    *,
    name: str = "Aisyah Rahman",
    tier: str = "hot",
    score: int = 80,
    owner_id: uuid.UUID | None = None,
    company: str = "Kopi Digital Sdn Bhd",
) -> uuid.UUID:
    """Capture a qualified lead through the vault; return its id."""
    with vault.sessions.begin() as session:
        result = vault.capture_lead(
            session,
            LeadInput(
                name=name,
                email=email,
                company=company,
                job_title="Head of Operations",
                need="A chat assistant for our web shop",
                phone="+60 12-345 6789",
            ),
            score=score,
            tier=tier,
            source="chat",
            consents=[
                ConsentAnswer(purpose, True, "1", "chat")
                for purpose in (Purpose.SALES_CONTACT, Purpose.EMAIL_NURTURE)
            ],
        )
        lead = session.get(Lead, result.lead_id)
        assert lead is not None
        lead.owner_id = owner_id
        lead.status = LeadStatus.NEW.value
        return result.lead_id


def csrf_from(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = CSRF_FIELD.search(html)
    assert found, "page has no CSRF token"
    return found.group(1)


def sign_in(client: TestClient, member: StaffMember, code: str | None = None) -> None:
    """Sign in through the pages: password, then TOTP."""
    page = client.get("/console/login")
    response = client.post(
        "/console/login",
        data={
            "email": member.email,
            "password": PASSWORD,
            "csrf_token": csrf_from(page.text),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/console/mfa"
    page = client.get("/console/mfa")
    response = client.post(
        "/console/mfa",
        data={"code": code or member.code(), "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def post_form(
    client: TestClient, page_path: str, action: str, data: dict[str, str]
) -> object:
    """Load a page for its CSRF token, then post a form."""
    token = csrf_from(client.get(page_path).text)
    return client.post(
        action, data={**data, "csrf_token": token}, follow_redirects=False
    )


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash with cheap argon2id parameters in tests (still the real library).

    The production parameters (RFC 9106 low-memory profile) cost most of a
    second per hash on a busy two-core machine; every test signs in.
    """
    monkeypatch.setattr(
        passwords,
        "_hasher",
        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
    )


@pytest.fixture
def console_vault(settings: Settings) -> Vault:
    """The vault of the test's isolated database."""
    return Vault.from_settings(settings)


@pytest.fixture
def app(settings: Settings) -> Starlette:
    """The whole application on the test's settings."""
    return create_app(settings)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    """A browser-like client (keeps cookies)."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def staff(console_vault: Vault, settings: Settings) -> dict[Role, StaffMember]:
    """One enrolled user of each role."""
    return {
        role: make_staff(console_vault, settings, role, f"{role.value}@team.example")
        for role in Role
    }


def settings_with(tmp_path: Path, **overrides: object) -> Settings:
    """Migrated SQLite settings like the ``settings`` fixture, with overrides."""
    var_dir = tmp_path / "custom-var"
    var_dir.mkdir(parents=True, exist_ok=True)
    keyring_file = var_dir / "keyring.json"
    if not keyring_file.exists():
        write_keyring_file(keyring_file, new_keyring_document())
    made = load_settings(var_dir=var_dir, keyring_file=keyring_file, **overrides)
    upgrade(made.database_url)
    return made


def session_cookie(client: TestClient) -> str:
    """The session id the client holds (empty when none)."""
    return client.cookies.get("lg_session") or ""
