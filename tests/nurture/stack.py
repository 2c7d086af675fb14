"""A real nurture stack for tests: SMTP sink and Celery worker subprocesses.

The test process shares the SQLite database and the key ring with the
worker through ``LEADGUARD_*`` variables, and runs ticks itself (publishing
to the same broker) so each test decides when steps are claimed.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import redis
from celery import Celery

from leads.settings import Settings, load_settings
from leads.vault import Vault
from nurture.celery_app import celery_config
from nurture.scheduler import TickReport, run_tick
from nurture.sequences import load_sequences

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
REDIS_DB = int(os.environ.get("LEADGUARD_TEST_REDIS_DB", "11"))
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(
    predicate: Callable[[], bool], timeout: float, what: str, step: float = 0.1
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class NurtureStack:
    """Processes and settings of one test's nurture stack."""

    var_dir: Path
    broker: str
    sequences_dir: Path
    extra: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    sink: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _app: Celery | None = None

    @property
    def broker_url(self) -> str:
        if self.broker == "redis":
            return REDIS_URL
        if self.broker == "amqp":
            return AMQP_URL
        return f"sqla+sqlite:///{self.var_dir / 'broker.db'}"

    @property
    def env(self) -> dict[str, str]:
        values = {
            "LEADGUARD_VAR_DIR": str(self.var_dir),
            "LEADGUARD_KEYRING_FILE": str(self.var_dir / "keyring.json"),
            "LEADGUARD_BROKER_URL": self.broker_url,
            "LEADGUARD_SMTP_PORT": str(self.port),
            "LEADGUARD_MAIL_SINK_PORT": str(self.port),
            "LEADGUARD_NURTURE_SEQUENCES_DIR": str(self.sequences_dir),
            "LEADGUARD_NURTURE_RATE_GLOBAL": "100000/second",
            "LEADGUARD_NURTURE_RATE_PER_DOMAIN": "100000/second",
            "LEADGUARD_NURTURE_RETRY_BASE_SECONDS": "0.5",
            "LEADGUARD_NURTURE_RETRY_MAX_SECONDS": "2",
            "LEADGUARD_NURTURE_MAX_ATTEMPTS": "30",
            "LEADGUARD_NURTURE_REDISPATCH_SECONDS": "4",
            "LEADGUARD_NURTURE_CLAIM_LEASE_SECONDS": "5",
            "LEADGUARD_PUBLIC_BASE_URL": "https://leads.example.com",
            **self.extra,
        }
        return values

    @property
    def settings(self) -> Settings:
        overrides = {
            k.removeprefix("LEADGUARD_").lower(): v for k, v in self.env.items()
        }
        return load_settings(**overrides)

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"

    # -- processes -------------------------------------------------------

    def _child_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEADGUARD_")}
        env.update(self.env)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def start_sink(self) -> None:
        with open(self.var_dir / "sink.log", "ab") as log:
            self.sink = subprocess.Popen(
                [str(PYTHON), "-m", "nurture.mail_sink"],
                cwd=ROOT,
                env=self._child_env(),
                stdout=log,
                stderr=log,
            )

        def listening() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.2):
                    return True
            except OSError:
                return False

        wait_for(listening, 20, "the mail sink")

    def stop_sink(self) -> None:
        if self.sink is not None:
            self.sink.terminate()
            self.sink.wait(10)
            self.sink = None

    def start_worker(self, concurrency: int = 2) -> subprocess.Popen[bytes]:
        number = len(self.workers)
        log_path = self.var_dir / f"worker{number}.log"
        with open(log_path, "ab") as log:
            worker = self._spawn_worker(number, concurrency, log)
        self.workers.append(worker)
        wait_for(
            lambda: b"ready." in log_path.read_bytes() or worker.poll() is not None,
            60,
            "the worker",
        )
        assert worker.poll() is None, log_path.read_text()
        return worker

    def _spawn_worker(
        self, number: int, concurrency: int, log: object
    ) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                str(PYTHON),
                "-m",
                "celery",
                "-A",
                "nurture.celery_app",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"test{number}-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=self._child_env(),
            stdout=log,
            stderr=log,
            start_new_session=True,
        )

    def kill_workers(self, sig: int = signal.SIGKILL) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                os.killpg(worker.pid, sig)
                worker.wait(30)
        self.workers = []

    def stop_workers(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.terminate()
        for worker in self.workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.wait(15)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
        self.workers = []

    def close(self) -> None:
        try:
            self.stop_workers()
        finally:
            self.stop_sink()
        if self.broker == "redis":
            redis.Redis.from_url(REDIS_URL).flushdb()
        if self.broker == "amqp":
            self.app.control.purge()

    # -- in-process parts -------------------------------------------------

    @property
    def app(self) -> Celery:
        if self._app is None:
            self._app = Celery("leadguard-test", set_as_current=False)
            self._app.config_from_object(celery_config(self.settings))
        return self._app

    def publish(self, send_ids: list[int]) -> None:
        self.app.send_task("nurture.send", args=[send_ids])

    def tick(self, vault: Vault) -> TickReport:
        return run_tick(
            vault.sessions,
            load_sequences(self.sequences_dir),
            self.settings,
            self.publish,
        )

    def count(self) -> int:
        if not self.mail_dir.exists():
            return 0
        with os.scandir(self.mail_dir) as entries:
            return sum(1 for e in entries if e.name.endswith(".eml"))

    def messages(self) -> list[EmailMessage]:
        if not self.mail_dir.exists():
            return []
        found = []
        for path in sorted(self.mail_dir.glob("*.eml")):
            parsed = email.message_from_bytes(
                path.read_bytes(), policy=email.policy.default
            )
            assert isinstance(parsed, EmailMessage)
            found.append(parsed)
        return found

    def logs(self) -> bytes:
        return b"".join(p.read_bytes() for p in self.var_dir.glob("*.log"))


def python_ok() -> bool:
    return sys.version_info[:2] == (3, 11)
