"""Metrics: bounded labels, multiprocess merge, database gauges."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

from prometheus_client import generate_latest
from sqlalchemy import insert

from leads import metrics
from leads.database import engine_for
from leads.metrics_database import DatabaseCollector
from leads.models import Lead, utcnow
from leads.settings import Settings


def sample(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {line_start!r} in output")


def test_unknown_label_values_are_recorded_as_other() -> None:
    before = metrics.EMAILS.labels(outcome="other")._value.get()
    metrics.record_email("jane@example.com")
    metrics.record_lead_captured("<script>")
    assert metrics.EMAILS.labels(outcome="other")._value.get() == before + 1
    output = generate_latest().decode()
    assert "jane@example.com" not in output
    assert "<script>" not in output


def test_http_metrics_use_the_status_class() -> None:
    metrics.record_http_request("/privacy/link/{token:str}", 404, 0.01)
    output = generate_latest().decode()
    assert (
        sample(
            output,
            'leadguard_http_requests_total{route="/privacy/link/{token:str}",status="4xx"}',
        )
        >= 1
    )


RECORDER = """
import sys
from leads.metrics import record_chat_turn, record_email
for _ in range(int(sys.argv[1])):
    record_email("sent")
record_chat_turn(0.2)
"""


def run_recorder(directory: Path, count: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    subprocess.run(
        [sys.executable, "-c", RECORDER, str(count)], env=environment, check=True
    )


def test_processes_in_one_directory_are_summed(tmp_path: Path) -> None:
    run_recorder(tmp_path, 3)
    run_recorder(tmp_path, 4)
    output = generate_latest(metrics.multiprocess_registry(tmp_path)).decode()
    assert sample(output, 'leadguard_emails_total{outcome="sent"}') == 7
    assert sample(output, "leadguard_chat_turn_seconds_count") == 2


def test_container_sub_directories_are_summed(tmp_path: Path) -> None:
    run_recorder(tmp_path / "console-1", 2)
    run_recorder(tmp_path / "worker-1", 5)
    output = generate_latest(metrics.multiprocess_registry(tmp_path)).decode()
    assert sample(output, 'leadguard_emails_total{outcome="sent"}') == 7


def test_reset_removes_previous_runs(tmp_path: Path) -> None:
    run_recorder(tmp_path / "a", 2)
    run_recorder(tmp_path, 2)
    metrics.reset_multiprocess_dir(tmp_path)
    assert not list(tmp_path.rglob("*.db"))


def add_lead(settings: Settings, tier: str) -> uuid.UUID:
    lead_id = uuid.uuid4()
    with engine_for(settings.database_url).begin() as connection:
        connection.execute(
            insert(Lead).values(
                id=lead_id,
                tier=tier,
                score=10,
                source="test",
                email_index=secrets.token_bytes(32),
                time_zone="UTC",
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    return lead_id


def test_database_gauges(db_settings: Settings) -> None:
    from nurture.models import NurtureEnrollment

    hot = add_lead(db_settings, "hot")
    add_lead(db_settings, "warm")
    add_lead(db_settings, "hot")
    late = utcnow() - dt.timedelta(seconds=120)
    with engine_for(db_settings.database_url).begin() as connection:
        connection.execute(
            insert(NurtureEnrollment).values(
                lead_id=hot,
                sequence="welcome",
                state="active",
                next_step=0,
                next_due_at=late,
                status_at_enrollment="new",
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    from leads.audit import record_audit
    from leads.database import session_factory, transaction

    with transaction(session_factory(db_settings)) as session:
        record_audit(
            session, actor="user:1", action="lead.revealed.call", target_id=str(hot)
        )
        record_audit(session, actor="user:1", action="export.created")
        record_audit(session, actor="user:1", action="lead.claimed")
    collector = DatabaseCollector(engine_for(db_settings.database_url))
    families = {family.name: family for family in collector.collect()}
    assert families["leadguard_database_up"].samples[0].value == 1
    tiers = {s.labels["tier"]: s.value for s in families["leadguard_leads"].samples}
    assert tiers["hot"] == 2 and tiers["warm"] == 1 and tiers["cold"] == 0
    due = {
        s.labels["stage"]: s.value
        for s in families["leadguard_nurture_due_steps"].samples
    }
    assert due == {"unclaimed": 1, "queued": 0}
    lag = families["leadguard_nurture_due_lag_seconds"].samples[0].value
    assert 110 <= lag <= 600
    assert families["leadguard_reveals_audited"].samples[0].value == 1
    assert families["leadguard_exports_audited"].samples[0].value == 1
    assert families["leadguard_erasures_audited"].samples[0].value == 0
    assert families["leadguard_nurture_sends"].samples == []


def test_database_down_is_a_gauge_not_an_error(tmp_path: Path) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'missing' / 'nothing.db'}")
    families = list(DatabaseCollector(engine).collect())
    assert [family.name for family in families] == ["leadguard_database_up"]
    assert families[0].samples[0].value == 0
