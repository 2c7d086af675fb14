"""End to end: the real Rasa 3.6 server, the real action server, SQLite.

One full conversation over the redacting REST channel: consent for both
purposes, every field (a card number pasted on the way), the lead written
through the vault. Then the databases and both processes' logs are scanned
for the visitor's email, name and card number, and a broken tracker store
is shown to fail loudly (HTTP 503), not silently.
"""

from __future__ import annotations

import secrets
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from leads.consent import consent_history
from leads.migrate import upgrade
from leads.models import Lead, LeadChatSession, OutboxEvent
from leads.vault import Vault
from tests.actions.test_server import free_port
from tests.bot.conftest import BOT_DIR, RASA_CLI, rasa_env
from tests.conftest import make_settings

pytestmark = [pytest.mark.rasa, pytest.mark.integration, pytest.mark.slow]

NAME = "Aisyah Canarywati"
EMAIL = "aisyah.canary@canarywidgets.com.my"
COMPANY = "Canary Widgets Sdn Bhd"
CARD = "4111 1111 1111 1111"
START_TIMEOUT_S = 420
WEBHOOK = "/webhooks/redacting_rest/webhook"


@dataclass
class Stack:
    """The running servers and where they keep things."""

    rasa_url: str
    var: Path
    logs: list[Path]
    vault: Vault


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> Any:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            answer = httpx.get(url, timeout=2)
            if answer.status_code == 200:
                return answer.json()
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(f"{url} did not start:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def stack(
    trained_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    var = tmp_path_factory.mktemp("e2e-var")
    settings = make_settings(var)
    upgrade(settings.database_url)
    action_port, rasa_port = free_port(), free_port()
    endpoints = var / "endpoints.yml"
    endpoints.write_text(
        (BOT_DIR / "endpoints.yml")
        .read_text(encoding="utf-8")
        .replace("127.0.0.1:5055", f"127.0.0.1:{action_port}"),
        encoding="utf-8",
    )
    action_log, rasa_log = var / "actions.log", var / "rasa.log"
    env = rasa_env(var)
    with action_log.open("wb") as handle:
        actions = subprocess.Popen(
            [sys.executable, "-m", "actions.server", "--port", str(action_port)],
            env={**env, "PYTHONPATH": str(BOT_DIR.parent)},
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    with rasa_log.open("wb") as handle:
        rasa = subprocess.Popen(
            [
                str(RASA_CLI),
                "run",
                "-i",
                "127.0.0.1",
                "-p",
                str(rasa_port),
                "-m",
                str(trained_model),
                "--endpoints",
                str(endpoints),
                "--credentials",
                "credentials.yml",
            ],
            cwd=BOT_DIR,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    try:
        _wait_for(f"http://127.0.0.1:{action_port}/health", actions, action_log)
        status = _wait_for(f"{rasa_url}/webhooks/redacting_rest/", rasa, rasa_log)
        assert status == {"status": "ok", "tracker_store": "EncryptedSQLTrackerStore"}
        yield Stack(
            rasa_url, var, [action_log, rasa_log], Vault.from_settings(settings)
        )
    finally:
        for process in (rasa, actions):
            process.terminate()
        for process in (rasa, actions):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def say(stack: Stack, sender: str, text: str) -> list[dict[str, Any]]:
    answer = httpx.post(
        stack.rasa_url + WEBHOOK,
        json={"sender": sender, "message": text},
        timeout=120,
    )
    assert answer.status_code == 200, answer.text
    replies: list[dict[str, Any]] = answer.json()
    return replies


def joined(replies: list[dict[str, Any]]) -> str:
    return " ".join(str(reply.get("text") or "") for reply in replies)


@pytest.fixture(scope="module")
def conversation(stack: Stack) -> tuple[str, dict[str, str]]:
    sender = secrets.token_urlsafe(18)
    script = [
        ("start", "hello"),
        ("enquiry", "I'd like a demo for my team"),
        ("consent_sales", "yes"),
        ("consent_email", "yes please"),
        ("name", NAME),
        ("email", EMAIL),
        ("company", COMPANY),
        ("card", f"my card number is {CARD}"),
        ("job_title", "Head of Operations"),
        ("company_size", "51-200"),
        ("need", "A CRM for our field sales team"),
        ("timeline", "this_quarter"),
        ("budget", "50k_200k"),
        ("phone", "skip"),
    ]
    said = {step: joined(say(stack, sender, text)) for step, text in script}
    return sender, said


def test_the_opening_links_the_notice_and_asks_consent_first(
    conversation: tuple[str, dict[str, str]],
) -> None:
    _sender, said = conversation
    assert "automated assistant" in said["start"]
    assert "privacy notice (version 1)" in said["start"]
    assert "sales team contact you" in said["enquiry"]
    assert "follow-up emails" in said["consent_sales"]
    assert "What is your name?" in said["consent_email"]


def test_the_pasted_card_is_removed_and_the_visitor_told(
    conversation: tuple[str, dict[str, str]],
) -> None:
    _sender, said = conversation
    assert "removed a payment card number" in said["card"]
    assert "job title" in said["card"]


def test_the_lead_and_its_consents_are_stored_encrypted(
    stack: Stack, conversation: tuple[str, dict[str, str]]
) -> None:
    sender, said = conversation
    assert "passed your enquiry" in said["phone"]
    with stack.vault.sessions() as session:
        leads = list(session.scalars(select(Lead)))
        assert len(leads) == 1
        lead = leads[0]
        fields = stack.vault.read_personal(session, lead.id)
        history = consent_history(session, lead.id)
        links = list(session.scalars(select(LeadChatSession.chat_session_id)))
        topics = list(session.scalars(select(OutboxEvent.topic)))
    assert fields["email"] is not None and fields["email"].reveal() == EMAIL
    assert fields["name"] is not None and fields["name"].reveal() == NAME
    assert fields["phone"] is None
    assert (lead.company_size, lead.timeline, lead.budget) == (
        "51-200",
        "this_quarter",
        "50k_200k",
    )
    assert [(r.purpose, r.granted, r.notice_version) for r in history] == [
        ("sales_contact", True, "1"),
        ("email_nurture", True, "1"),
    ]
    assert links == [sender]
    assert topics == ["lead.qualified"]


def test_no_plaintext_in_databases_or_logs(
    stack: Stack, conversation: tuple[str, dict[str, str]]
) -> None:
    sender, _said = conversation
    files = [
        *stack.var.glob("tracker.db*"),
        *stack.var.glob("leadguard.db*"),
        *stack.logs,
    ]
    assert any(p.name == "tracker.db" for p in files), "no tracker database"
    canaries = [EMAIL, NAME, COMPANY, CARD, CARD.replace(" ", "")]
    for path in files:
        raw = path.read_bytes()
        for canary in canaries:
            assert canary.encode() not in raw, f"{canary[:5]}... in {path.name}"
    tracker_raw = b"".join(p.read_bytes() for p in stack.var.glob("tracker.db*"))
    assert sender.encode() not in tracker_raw


def test_a_broken_tracker_store_fails_loudly(
    stack: Stack, conversation: tuple[str, dict[str, str]]
) -> None:
    connection = sqlite3.connect(stack.var / "tracker.db")
    connection.execute("DROP TABLE leadguard_transcripts")
    connection.commit()
    connection.close()
    answer = httpx.post(
        stack.rasa_url + WEBHOOK,
        json={"sender": secrets.token_urlsafe(18), "message": "hello"},
        timeout=120,
    )
    assert answer.status_code == 503
    assert answer.json() == {"error": "conversation store unavailable"}
    assert "tracker_store.failed" in stack.logs[1].read_text()
