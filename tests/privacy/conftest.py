"""A subject spread over every store: vault, tracker, nurture, notes, mail, Redis.

``world`` builds one isolated deployment per test (its own var directory,
key ring, database, tracker file, mail sink and Redis key prefix) and plants
a subject with unique marker values in every store, next to a bystander
who must come through untouched.
"""

from __future__ import annotations

import secrets
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis

from leads.consent import ConsentAnswer
from leads.models import Purpose
from leads.privacy_stores import MailFolder, RedisStore, TrackerStore
from leads.settings import Settings, load_settings
from leads.vault import LeadInput, Vault
from tests.conftest import create_pg_database, drop_pg_database, make_settings
from tests.console.conftest import app, console_vault, staff  # noqa: F401 - fixtures

REDIS_URL = "redis://127.0.0.1:6379/11"
NOTICE = "1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Subject:
    """The planted subject: ids, values and what was planted where."""

    lead_id: uuid.UUID
    email: str
    name: str
    phone: str
    chat_ids: list[str]
    markers: list[str] = field(default_factory=list)
    note_body: str = ""


@dataclass
class World:
    """One isolated deployment with every store."""

    settings: Settings
    vault: Vault
    tracker: TrackerStore
    redis_store: RedisStore
    mail: MailFolder
    redis_prefix: str
    sink: Any
    subject: Subject | None = None
    bystander: Subject | None = None

    @property
    def stores(self) -> list[Any]:
        return [self.tracker, self.redis_store, self.mail]

    @property
    def database_files(self) -> list[Path]:
        if not self.settings.is_sqlite:
            return []
        path = Path(self.settings.database_url.split("///", 1)[1])
        return [path, Path(f"{path}-wal"), Path(f"{path}-journal")]


def _consents() -> list[ConsentAnswer]:
    return [
        ConsentAnswer(Purpose.SALES_CONTACT, True, NOTICE, "chat"),
        ConsentAnswer(Purpose.EMAIL_NURTURE, True, NOTICE, "chat"),
    ]


def plant_subject(world: World, label: str) -> Subject:
    """Create a lead who chatted twice, got two emails and has a note."""
    from console.models import LeadNote
    from nurture.models import NurtureEnrollment, NurtureSend, SendState
    from nurture.transactional import send_transactional_email

    tag = secrets.token_hex(5)
    email = f"{label}{tag}@canary-{tag}.example.com"
    name = f"Canary{label.title()} Person{tag}"
    phone = f"+6012{secrets.randbelow(10**7):07d}"
    chat_ids = [secrets.token_hex(16), secrets.token_hex(16)]
    vault = world.vault
    lead = LeadInput(
        name=name,
        email=email,
        company=f"Canarycorp{tag} Sdn Bhd",
        job_title="Head of IT",
        need=f"Needs a CRM, call {name}",
        phone=phone,
    )
    for chat_id in chat_ids:
        with vault.sessions.begin() as session:
            result = vault.capture_lead(
                session,
                lead,
                score=70,
                tier="hot",
                source="chat",
                consents=_consents(),
                chat_session_id=chat_id,
            )
    lead_id = result.lead_id

    repository = world.tracker._repository()
    try:
        for chat_id in chat_ids:
            repository.save(
                chat_id,
                {
                    "sender_id": chat_id,
                    "events": [
                        {"event": "user", "text": f"I am {name}, mail {email}"},
                        {"event": "action", "name": "action_listen"},
                        {"event": "bot", "text": "Thanks! We will be in touch."},
                    ],
                },
            )
    finally:
        repository.close()

    note_body = f"{name} asked for a call on {phone} <script>alert(1)</script>"
    with vault.sessions.begin() as session:
        enrollment = NurtureEnrollment(
            lead_id=lead_id, sequence="welcome", status_at_enrollment="new"
        )
        session.add(enrollment)
        session.flush()
        for step in (0, 1):
            session.add(
                NurtureSend(
                    enrollment_id=enrollment.id,
                    lead_id=lead_id,
                    step=step,
                    message_id=f"{secrets.token_hex(8)}@leadguard.example",
                    state=SendState.SENT,
                )
            )
        note_id = uuid.uuid4()
        sealed = vault.seal_for_subject(
            session, lead_id, ("lead_notes", "body", note_id), note_body
        )
        session.add(LeadNote(id=note_id, lead_id=lead_id, body_sealed=sealed))
    for step in (1, 2):
        send_transactional_email(
            to=email,
            subject=f"Step {step} for you",
            text=f"Hello {name}, here is step {step}.",
            settings=world.settings,
        )

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.set(f"{world.redis_prefix}lock:{chat_ids[0]}", b"1")
        client.set(f"{world.redis_prefix}cache:{lead_id}", b"cached")
    finally:
        client.close()
    return Subject(
        lead_id=lead_id,
        email=email,
        name=name,
        phone=phone,
        chat_ids=chat_ids,
        markers=[email, name, phone, tag],
        note_body=note_body,
    )


def _settings(var: Path, database_url: str | None, smtp_port: int) -> Settings:
    base = make_settings(var, database_url)
    return load_settings(
        var_dir=base.var_dir,
        keyring_file=base.keyring_file,
        database_url=base.database_url,
        smtp_port=smtp_port,
        smtp_host="127.0.0.1",
        smtp_security="dev-sink",
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """A deployment on SQLite and on PostgreSQL with a subject and a bystander."""
    from leads.migrate import upgrade
    from nurture.mail_sink import start_sink

    pg_url = create_pg_database("lg_privacy") if request.param == "postgres" else None
    port = free_port()
    settings = _settings(tmp_path / "var", pg_url, port)
    upgrade(settings.database_url)
    vault = Vault.from_settings(settings)
    mail = MailFolder.from_settings(settings, vault.keyring)
    sink = start_sink(mail.folder, port=port)
    prefix = f"lgprivacy{secrets.token_hex(4)}:"
    world = World(
        settings=settings,
        vault=vault,
        tracker=TrackerStore.from_settings(settings, vault.keyring),
        redis_store=RedisStore([REDIS_URL]),
        mail=mail,
        redis_prefix=prefix,
        sink=sink,
    )
    try:
        world.subject = plant_subject(world, "subject")
        world.bystander = plant_subject(world, "bystander")
        yield world
    finally:
        sink.stop()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()
        if pg_url is not None:
            drop_pg_database(pg_url)
