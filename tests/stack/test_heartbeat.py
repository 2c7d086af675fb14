"""Worker and beat heartbeats, from real Celery processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leads.heartbeat import HEARTBEAT_DIR_ENV, INTERVAL_SECONDS, age_seconds

APP = """
from celery import Celery

app = Celery("hbtest", broker="sqla+sqlite:///{broker}")
app.conf.beat_schedule = {{"noop": {{"task": "hbtest.noop", "schedule": 3600.0}}}}
app.conf.worker_hijack_root_logger = False


@app.task(name="hbtest.noop")
def noop() -> None:
    return None
"""


@pytest.mark.slow
def test_worker_and_beat_keep_their_heartbeats_fresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "hbtest_app.py").write_text(APP.format(broker=tmp_path / "b.db"))
    beats = tmp_path / "beats"
    monkeypatch.setenv(HEARTBEAT_DIR_ENV, str(beats))
    environment = {
        **os.environ,
        HEARTBEAT_DIR_ENV: str(beats),
        "PYTHONPATH": str(tmp_path),
    }
    celery = [sys.executable, "-m", "celery", "-A", "hbtest_app"]
    commands = [
        [*celery, "worker", "--include=leads.heartbeat", "-P", "solo"],
        [
            *celery,
            "beat",
            "--scheduler=leads.heartbeat:HeartbeatScheduler",
            f"--schedule={tmp_path / 'schedule'}",
        ],
    ]
    processes = [
        subprocess.Popen(
            command,
            cwd=tmp_path,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for command in commands
    ]
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if age_seconds("worker") is not None and age_seconds("beat") is not None:
                break
            time.sleep(0.2)
        first = (beats / "worker").read_text(), (beats / "beat").read_text()
        time.sleep(INTERVAL_SECONDS + 1.5)
        second = (beats / "worker").read_text(), (beats / "beat").read_text()
        assert first[0] != second[0] and first[1] != second[1]
        for name in ("worker", "beat"):
            age = age_seconds(name)
            assert age is not None and age < INTERVAL_SECONDS + 1
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
