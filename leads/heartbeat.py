"""Heartbeat files: how a process without an HTTP port shows it is alive.

The Celery worker and beat have no health endpoint, and ``celery inspect
ping`` needs a broker with broadcast support, which the embedded SQLite
broker lacks. Instead each of them rewrites a small file under
``<var>/heartbeats/`` every :data:`INTERVAL_SECONDS`; a file older than
:data:`STALE_AFTER_SECONDS` means the process is stuck or gone.

- Worker: the file is touched from the worker's own event loop timer, so a
  worker whose consumer loop is blocked stops beating.
- Beat: :class:`HeartbeatScheduler` touches the file on every scheduler
  tick (at least every :data:`INTERVAL_SECONDS`), so a beat whose loop is
  stuck stops beating. It shows that the loop runs, not that every nurture
  tick succeeded (the ``leadguard_nurture_due_lag_seconds`` gauge does).

Start the worker with ``--include leads.heartbeat`` and beat with
``--scheduler leads.heartbeat:HeartbeatScheduler`` (the Procfile and the
compose file do). The files hold a timestamp only.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from celery import signals
from celery.beat import PersistentScheduler

from leads.settings import get_settings

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 5.0
STALE_AFTER_SECONDS = 30.0
HEARTBEAT_DIR_ENV = "LEADGUARD_HEARTBEAT_DIR"


def heartbeat_dir() -> Path:
    """Return the directory of heartbeat files (created on first use)."""
    configured = os.environ.get(HEARTBEAT_DIR_ENV)
    path = Path(configured) if configured else get_settings().var_dir / "heartbeats"
    path.mkdir(parents=True, exist_ok=True)
    return path


def beat(name: str) -> None:
    """Record that process ``name`` is alive now (atomic replace)."""
    directory = heartbeat_dir()
    temporary = directory / f".{name}.tmp"
    temporary.write_text(f"{time.time():.3f}\n", encoding="ascii")
    temporary.replace(directory / name)


def age_seconds(name: str) -> float | None:
    """Return seconds since ``name`` last beat, or None if it never did."""
    path = heartbeat_dir() / name
    try:
        stamp = float(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    return max(time.time() - stamp, 0.0)


def is_alive(name: str, stale_after: float = STALE_AFTER_SECONDS) -> bool:
    """Whether ``name`` beat within ``stale_after`` seconds."""
    age = age_seconds(name)
    return age is not None and age <= stale_after


def _start_worker_heartbeat(sender: Any = None, **_kwargs: Any) -> None:
    """Beat from the worker consumer's timer (stops if its loop blocks)."""
    beat("worker")
    sender.timer.call_repeatedly(INTERVAL_SECONDS, beat, ("worker",))
    log.info("heartbeat.started process=worker")


class HeartbeatScheduler(PersistentScheduler):  # type: ignore[misc]
    """Celery beat's persistent scheduler, beating on every tick."""

    #: wake at least this often, so that the heartbeat stays fresh
    max_interval = INTERVAL_SECONDS

    def tick(self, *args: Any, **kwargs: Any) -> float:
        """Record the heartbeat, then run the normal tick."""
        try:
            beat("beat")
        except OSError:
            log.warning("heartbeat.write_failed process=beat")
        interval: float = super().tick(*args, **kwargs)
        return interval


signals.worker_ready.connect(_start_worker_heartbeat, weak=False)
