"""The sender in-process against a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from leads.consent import ConsentAnswer, record_consent
from leads.migrate import upgrade
from leads.models import Lead, Purpose, Suppression
from leads.settings import Settings, load_settings
from leads.vault import Vault
from nurture.mail_sink import MailFolderHandler, quiet_smtp_logs, start_sink
from nurture.models import EnrollmentState, NurtureEnrollment, NurtureSend, SendState
from nurture.scheduler import claim_due_steps, enroll_from_outbox
from nurture.sender import Outcome, Sender, retry_delay
from nurture.sequences import SequenceSet, load_sequences
from tests.conftest import make_settings
from tests.leads.canaries import hits_in_bytes
from tests.nurture.conftest import add_lead
from tests.nurture.stack import free_port

SEQUENCE = """\
version: 1
name: two
window:
  days: [mon, tue, wed, thu, fri, sat, sun]
  start: "{start}"
  end: "{end}"
exit_on: [converted, status_changed]
steps:
  - id: one
    delay: 0 hours
    subject: "Hello {{{{ first_name }}}}"
    html: "<p>Hi {{{{ name }}}} at {{{{ company }}}}</p>"
  - id: two
    delay: 3 days
    when:
      tiers: [hot]
    subject: "Again"
    html: "<p>Again</p>"
"""


class RejectingHandler(MailFolderHandler):
    """Refuses one recipient permanently (550), keeps everything else."""

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("gone@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@dataclass
class Env:
    settings: Settings
    vault: Vault
    sequences: SequenceSet
    mail: Path

    def sender(self) -> Sender:
        return Sender(self.settings, self.vault, self.sequences)

    def send(self, send_id: int) -> Outcome:
        sender = self.sender()
        try:
            return sender.send(send_id)
        finally:
            sender.close()

    def claim(self) -> list[int]:
        with self.vault.sessions.begin() as session:
            enroll_from_outbox(session, self.sequences, self.settings, 100)
        with self.vault.sessions.begin() as session:
            return claim_due_steps(session, self.settings, 100)

    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for p in sorted(self.mail.glob("*.eml"))
        ]

    def send_state(self, send_id: int) -> str:
        with self.vault.sessions() as session:
            send = session.get(NurtureSend, send_id)
            assert send is not None
            return send.state


def _env(tmp_path: Path, window: tuple[str, str] = ("00:00", "24:00")) -> Env:
    sequences_dir = tmp_path / "sequences"
    sequences_dir.mkdir(exist_ok=True)
    (sequences_dir / "two.yml").write_text(
        SEQUENCE.format(start=window[0], end=window[1])
    )
    base = make_settings(tmp_path / "var")
    port = free_port()
    settings = load_settings(
        var_dir=base.var_dir,
        keyring_file=base.keyring_file,
        smtp_port=port,
        nurture_sequences_dir=sequences_dir,
        public_base_url="https://leads.example.com",
    )
    upgrade(settings.database_url)
    return Env(
        settings,
        Vault.from_settings(settings),
        load_sequences(sequences_dir),
        tmp_path / "var" / "mail",
    )


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    made = _env(tmp_path)
    quiet_smtp_logs()
    controller = Controller(
        RejectingHandler(made.mail), hostname="127.0.0.1", port=made.settings.smtp_port
    )
    controller.start()
    yield made
    controller.stop()


def test_sends_once_and_moves_to_the_next_step(env: Env) -> None:
    lead_id = add_lead(env.vault, email="ana@example.com")
    [send_id] = env.claim()
    sender = env.sender()
    assert sender.send(send_id) == Outcome.SENT
    assert sender.send(send_id) == Outcome.NOTHING_TO_DO
    sender.close()
    assert len(env.messages()) == 1
    with env.vault.sessions() as session:
        enrollment = session.scalar(
            select(NurtureEnrollment).where(NurtureEnrollment.lead_id == lead_id)
        )
        assert enrollment is not None
        assert enrollment.next_step == 1
        assert enrollment.next_due_at is not None
        wait = enrollment.next_due_at - dt.datetime.now(dt.UTC)
        assert dt.timedelta(days=2, hours=23) < wait <= dt.timedelta(days=3)


def test_permanent_failure_bounces_and_suppresses(env: Env) -> None:
    lead_id = add_lead(env.vault, email="gone@example.com")
    [send_id] = env.claim()
    assert env.send(send_id) == Outcome.BOUNCED
    assert env.send_state(send_id) == SendState.BOUNCED
    assert env.messages() == []
    with env.vault.sessions() as session:
        assert env.vault.is_suppressed(session, "gone@example.com")
        reason = session.scalar(select(Suppression.reason))
        assert reason == "bounced"
        enrollment = session.scalar(
            select(NurtureEnrollment).where(NurtureEnrollment.lead_id == lead_id)
        )
        assert enrollment is not None and enrollment.state == EnrollmentState.STOPPED


def test_consent_withdrawn_after_claim_cancels(env: Env) -> None:
    lead_id = add_lead(env.vault)
    [send_id] = env.claim()
    with env.vault.sessions.begin() as session:
        record_consent(
            session,
            ConsentAnswer(Purpose.EMAIL_NURTURE, False, "1", "chat"),
            subject_id=lead_id,
        )
    assert env.send(send_id) == Outcome.CANCELLED
    assert env.messages() == []


def test_status_change_and_condition_skip(env: Env) -> None:
    changed = add_lead(env.vault, tier="warm", score=50)
    sends = env.claim()
    with env.vault.sessions.begin() as session:
        session.execute(update(Lead).where(Lead.id == changed).values(status="won"))
    assert env.send(sends[0]) == Outcome.CANCELLED
    with env.vault.sessions() as session:
        enrollment = session.scalar(select(NurtureEnrollment))
        assert enrollment is not None and enrollment.stop_reason == "converted"


def test_step_condition_not_met_is_skipped(env: Env) -> None:
    add_lead(env.vault, tier="warm", score=50)
    [first] = env.claim()
    assert env.send(first) == Outcome.SENT
    with env.vault.sessions.begin() as session:
        session.execute(
            update(NurtureEnrollment).values(next_due_at=dt.datetime.now(dt.UTC))
        )
    [second] = env.claim()
    assert env.send(second) == Outcome.SKIPPED
    with env.vault.sessions() as session:
        enrollment = session.scalar(select(NurtureEnrollment))
        assert enrollment is not None and enrollment.state == EnrollmentState.COMPLETED


def test_no_enrollment_without_consent_or_when_suppressed(env: Env) -> None:
    add_lead(env.vault, consent=False)
    suppressed = add_lead(env.vault, email="old@example.com")
    with env.vault.sessions.begin() as session:
        lead = session.get(Lead, suppressed)
        assert lead is not None
        env.vault.suppress(session, lead.email_index, "unsubscribed")
    assert env.claim() == []


def test_personal_data_never_reaches_logs(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    marker = uuid.uuid4().hex[:10]
    add_lead(env.vault, email=f"m{marker}@example.com", name=f"Mira Mark{marker}")
    caplog.set_level(logging.DEBUG)
    [send_id] = env.claim()
    assert env.send(send_id) == Outcome.SENT
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records).encode()
    assert logged
    assert hits_in_bytes(logged, [marker, "Mira", "Acme"]) == []


def test_outside_the_window_is_deferred_to_the_opening(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    zone = "Asia/Kuala_Lumpur"
    local = now.astimezone(ZoneInfo(zone))
    start = (local + dt.timedelta(hours=2)).strftime("%H:00")
    end = (local + dt.timedelta(hours=3)).strftime("%H:00")
    if end <= start:
        pytest.skip("the window would wrap past midnight at this hour")
    made = _env(tmp_path, (start, end))
    add_lead(made.vault, time_zone=zone)
    with made.vault.sessions.begin() as session:
        enroll_from_outbox(session, made.sequences, made.settings, 10)
        enrollment = session.scalar(select(NurtureEnrollment))
        assert enrollment is not None and enrollment.next_due_at is not None
        opening = enrollment.next_due_at.astimezone(ZoneInfo(zone))
    assert opening.strftime("%H:%M") == start
    assert opening > now


def test_retry_delay_grows_with_jitter_and_a_cap() -> None:
    settings = load_settings(
        nurture_retry_base_seconds=10, nurture_retry_max_seconds=100
    )
    first = [retry_delay(1, settings) for _ in range(50)]
    assert all(5 <= d <= 10 for d in first) and len(set(first)) > 1
    assert all(20 <= retry_delay(3, settings) <= 40 for _ in range(50))
    assert all(50 <= retry_delay(30, settings) <= 100 for _ in range(50))


def test_sink_keeps_every_message_as_eml(tmp_path: Path) -> None:
    from nurture.transactional import send_transactional_email

    port = free_port()
    controller = start_sink(tmp_path / "mail", port=port)
    try:
        settings = load_settings(smtp_port=port)
        message_id = send_transactional_email(
            to="Someone@Example.com",
            subject="Your link\r\nBcc: x@evil.example",
            text="Open https://leads.example.com/x",
            settings=settings,
        )
    finally:
        controller.stop()
    [stored] = list((tmp_path / "mail").glob("*.eml"))
    parsed = email.message_from_bytes(stored.read_bytes(), policy=email.policy.default)
    assert parsed["Message-ID"] == f"<{message_id}>"
    assert parsed["Bcc"] is None
    assert parsed["To"] == "someone@example.com"


def test_erasing_a_lead_removes_its_enrollments_and_sends(env: Env) -> None:
    lead_id = add_lead(env.vault)
    [send_id] = env.claim()
    env.send(send_id)
    with env.vault.sessions.begin() as session:
        env.vault.erase_subject(session, lead_id, actor="test")
    with env.vault.sessions() as session:
        assert session.scalar(select(NurtureEnrollment.id)) is None
        assert session.scalar(select(NurtureSend.id)) is None


def test_throttle_limits_globally_and_per_domain() -> None:
    from nurture.throttle import SendThrottle

    throttle = SendThrottle(
        load_settings(
            nurture_rate_global="5/minute", nurture_rate_per_domain="2/minute"
        )
    )
    assert throttle.acquire("a.example") == 0
    assert throttle.acquire("A.example") == 0
    assert throttle.acquire("a.example") > 0
    assert throttle.acquire("b.example") == 0
    assert throttle.acquire("c.example") == 0
    assert throttle.acquire("d.example") > 0
