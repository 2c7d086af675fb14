"""Celery tasks: the beat tick and sending batches of send records.

Task arguments are send-record ids and nothing else; a worker decrypts the
lead's fields in memory while rendering. Sends are acknowledged late and
are idempotent (see :mod:`nurture.sender`), so a redelivered or duplicated
task changes nothing.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from celery.signals import worker_process_shutdown

from leads.settings import get_settings
from leads.vault import Vault
from nurture.celery_app import app
from nurture.scheduler import TickReport, run_tick
from nurture.sender import Sender
from nurture.sequences import default_sequences

__all__ = ["publish_sends", "send_batch", "tick", "worker_sender"]

log = logging.getLogger(__name__)


@functools.cache
def worker_sender() -> Sender:
    """Return this process's sender (opened once, after the fork)."""
    settings = get_settings()
    return Sender(settings, Vault.from_settings(settings), default_sequences())


@worker_process_shutdown.connect  # type: ignore[untyped-decorator]
def _close_relay(**_: Any) -> None:
    if worker_sender.cache_info().currsize:
        worker_sender().close()


@app.task(name="nurture.send", acks_late=True, ignore_result=True)  # type: ignore[untyped-decorator]
def send_batch(send_ids: list[int]) -> None:
    """Send each listed send record that is still queued."""
    sender = worker_sender()
    try:
        for send_id in send_ids:
            sender.send(int(send_id))
    finally:
        sender.flush()


def publish_sends(send_ids: list[int]) -> None:
    """Enqueue one task for a chunk of send-record ids."""
    send_batch.apply_async(args=[[int(i) for i in send_ids]])


def tick_once() -> TickReport:
    """Run one tick with this process's settings (CLI and beat)."""
    settings = get_settings()
    vault = Vault.from_settings(settings)
    return run_tick(vault.sessions, default_sequences(), settings, publish_sends)


@app.task(name="nurture.tick", ignore_result=True)  # type: ignore[untyped-decorator]
def tick() -> None:
    """Enroll from the outbox, claim due steps, dispatch, sweep."""
    tick_once()
