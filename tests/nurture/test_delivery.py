"""End to end with real Celery worker processes, a real broker and SMTP sink.

Each test runs on the real Redis and on the embedded SQLAlchemy transport.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from leads.migrate import upgrade
from leads.models import Lead
from leads.vault import Vault
from nurture.models import NurtureSend, SendState
from nurture.tokens import open_unsubscribe_token
from nurture.unsubscribe import unsubscribe_lead
from tests.leads.canaries import hits_in_bytes
from tests.nurture.bulk import add_leads
from tests.nurture.conftest import add_lead
from tests.nurture.stack import REDIS_URL, NurtureStack, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    # kombu's SQLAlchemy transport declares a relationship with ``noload``,
    # deprecated (not removed) in SQLAlchemy 2.1.
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy"),
]

THREE_STEPS = """\
version: 1
name: three
audience:
  tiers: [hot, warm]
window:
  days: [mon, tue, wed, thu, fri, sat, sun]
  start: "00:00"
  end: "24:00"
steps:
  - id: one
    delay: 0 hours
    subject: "Step one for {{ first_name }}"
    html: "<p>Hello {{ name }} of {{ company }}</p>"
  - id: two
    delay: 0 hours
    subject: "Step two"
    html: "<p>Second, {{ first_name }}</p>"
  - id: three
    delay: 0 hours
    subject: "Step three"
    html: "<p>Third</p>"
    text: "Plain third for {{ first_name }}"
"""

ONE_STEP = """\
version: 1
name: single
window:
  days: [mon, tue, wed, thu, fri, sat, sun]
  start: "00:00"
  end: "24:00"
steps:
  - id: only
    delay: 0 hours
    subject: "Hello {{ first_name }}"
    html: "<p>Hi {{ name }}</p>"
"""


def _make_stack(tmp_path: Path, broker: str, sequence: str) -> NurtureStack:
    sequences = tmp_path / "sequences"
    sequences.mkdir()
    (sequences / "test.yml").write_text(sequence)
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    from leads.keyring import new_keyring_document, write_keyring_file

    write_keyring_file(var_dir / "keyring.json", new_keyring_document())
    stack = NurtureStack(var_dir=var_dir, broker=broker, sequences_dir=sequences)
    if broker == "redis":
        redis.Redis.from_url(REDIS_URL).flushdb()
    if broker == "amqp":
        stack.app.control.purge()
    upgrade(stack.settings.database_url)
    return stack


@pytest.fixture(params=["redis", "sqla"])
def broker(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def three_stack(tmp_path: Path, broker: str) -> Iterator[NurtureStack]:
    stack = _make_stack(tmp_path, broker, THREE_STEPS)
    yield stack
    stack.close()


@pytest.fixture
def single_stack(tmp_path: Path, broker: str) -> Iterator[NurtureStack]:
    stack = _make_stack(tmp_path, broker, ONE_STEP)
    yield stack
    stack.close()


def _decoded(envelopes: list[bytes | str]) -> tuple[bytes, list[object]]:
    """Raw broker messages plus their base64 bodies, decoded."""
    held, bodies = b"", []
    for envelope in envelopes:
        raw = envelope.encode() if isinstance(envelope, str) else envelope
        message = json.loads(raw)
        body = base64.b64decode(message["body"])
        args = json.loads(body)[0]
        bodies.append(args)
        held += raw + body
    return held, bodies


def _send_states(vault: Vault) -> dict[str, int]:
    with vault.sessions() as session:
        rows = session.execute(
            select(NurtureSend.state, func.count()).group_by(NurtureSend.state)
        ).all()
    return {str(state): int(count) for state, count in rows}


def _tick_until(
    stack: NurtureStack, vault: Vault, done: object, timeout: float, what: str
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.tick(vault)
        if done():  # type: ignore[operator]
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}: {_send_states(vault)}")


@pytest.mark.parametrize("broker", ["redis", "sqla", "amqp"])
def test_three_steps_in_order_with_headers(three_stack: NurtureStack) -> None:
    stack = three_stack
    vault = Vault.from_settings(stack.settings)
    lead_id = add_lead(vault, email="ana@example.com", name="Ana Tan")
    add_lead(vault, email="no-consent@example.com", consent=False)
    add_lead(vault, email="cold@example.com", tier="cold", score=10)
    stack.start_sink()
    stack.start_worker()

    _tick_until(stack, vault, lambda: len(stack.messages()) >= 3, 90, "three emails")
    time.sleep(1.0)
    stack.tick(vault)
    time.sleep(1.0)

    messages = stack.messages()
    assert [m["Subject"] for m in messages] == [
        "Step one for Ana",
        "Step two",
        "Step three",
    ]
    assert {m["To"].addresses[0].addr_spec for m in messages} == {"ana@example.com"}
    with vault.sessions() as session:
        stored = set(
            session.scalars(
                select(NurtureSend.message_id).where(
                    NurtureSend.state == SendState.SENT
                )
            )
        )
    assert {m["Message-ID"].strip("<>") for m in messages} == stored
    for message in messages:
        targets = message["List-Unsubscribe"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = targets.split(",")[0].strip().strip("<>")
        assert url.startswith("https://leads.example.com/unsubscribe/")
        assert "mailto:" in targets
        token = url.rsplit("/", 1)[1]
        assert open_unsubscribe_token(vault.keyring, token) == lead_id
        assert "ana" not in url.lower()
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        assert url in html and url in text
    assert "Plain third for Ana" in messages[2].get_body(("plain",)).get_content()
    assert (
        "Hello Ana Tan of Acme Sdn Bhd" in messages[0].get_body(("html",)).get_content()
    )


def test_unsubscribe_after_task_queued_sends_nothing_and_broker_holds_ids_only(
    single_stack: NurtureStack, broker: str
) -> None:
    stack = single_stack
    vault = Vault.from_settings(stack.settings)
    marker = uuid.uuid4().hex[:10]
    name = f"Zed Canary{marker}"
    address = f"canary{marker}@example.com"
    lead_id = add_lead(vault, email=address, name=name)
    stack.start_sink()

    report = stack.tick(vault)
    assert report.dispatched == 1
    if broker == "redis":
        client = redis.Redis.from_url(REDIS_URL)
        envelopes = [
            item
            for key in client.keys("*")
            if client.type(key) == b"list"
            for item in client.lrange(key, 0, -1)
        ]
    else:
        broker_db = sqlite3.connect(stack.var_dir / "broker.db")
        try:
            rows = broker_db.execute("SELECT payload FROM kombu_message").fetchall()
        finally:
            broker_db.close()
        envelopes = [row[0] for row in rows]
    held, bodies = _decoded(envelopes)
    assert b"nurture.send" in held
    assert bodies == [[[1]]]
    assert hits_in_bytes(held, [name, address, marker, "Acme"]) == []

    with vault.sessions.begin() as session:
        assert unsubscribe_lead(session, lead_id)
    stack.start_worker()
    time.sleep(3.0)
    assert stack.messages() == []
    assert _send_states(vault) == {"cancelled": 1}
    assert hits_in_bytes(stack.logs(), [name, address, marker]) == []


@pytest.mark.parametrize("total", [2000])
def test_sigkill_mid_run_delivers_each_email_exactly_once(
    single_stack: NurtureStack, total: int
) -> None:
    stack = single_stack
    vault = Vault.from_settings(stack.settings)
    add_leads(vault, total)
    stack.start_sink()
    stack.tick(vault)
    stack.start_worker()
    wait_for(lambda: stack.count() >= total // 4, 120, "a quarter sent")
    stack.kill_workers()
    killed_at = stack.count()
    assert killed_at < total
    stack.start_worker()

    def all_final() -> bool:
        states = _send_states(vault)
        return states.get("sent", 0) + states.get("unconfirmed", 0) == total

    _tick_until(stack, vault, all_final, 240, "every send settled")
    ids = [m["Message-ID"] for m in stack.messages()]
    assert len(ids) == total
    assert len(set(ids)) == total


def test_sink_down_then_back_none_lost_none_twice(
    single_stack: NurtureStack,
) -> None:
    stack = single_stack
    vault = Vault.from_settings(stack.settings)
    for number in range(20):
        add_lead(vault, email=f"wait{number}@example.com")
    stack.start_worker()
    stack.tick(vault)

    def retried() -> bool:
        with vault.sessions() as session:
            low = session.scalar(select(func.min(NurtureSend.attempts)))
        return bool(low and low >= 1)

    wait_for(retried, 30, "failed attempts while the sink is down")
    assert _send_states(vault) == {"queued": 20}
    stack.start_sink()
    _tick_until(
        stack,
        vault,
        lambda: _send_states(vault) == {"sent": 20},
        90,
        "every send after the sink came back",
    )
    ids = [m["Message-ID"] for m in stack.messages()]
    assert len(ids) == 20 == len(set(ids))
    with vault.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 20
