"""The periodic privacy task, run by the nurture Celery beat.

Every ``LEADGUARD_RETENTION_INTERVAL_SECONDS`` (default hourly) it first
completes any erasure left unfinished (a crash, a store that was down), then
applies every retention period (:func:`leads.retention.run_retention`). Both
steps are idempotent, so an overlapping or repeated run does no harm. The
task takes no arguments; nothing personal crosses the broker.
"""

from __future__ import annotations

import functools
import logging

from leads.erasure import resume_erasures
from leads.retention import run_retention
from leads.vault import Vault
from nurture.celery_app import app

log = logging.getLogger(__name__)

TASK_NAME = "privacy.retention"

__all__ = ["TASK_NAME", "retention_tick"]


@functools.cache
def _vault() -> Vault:
    return Vault.from_settings()


@app.task(name=TASK_NAME, ignore_result=True)  # type: ignore[untyped-decorator]
def retention_tick() -> None:
    """Finish interrupted erasures, then purge what is past retention."""
    vault = _vault()
    resumed = resume_erasures(vault)
    report = run_retention(vault, dry_run=False)
    log.info(
        "privacy.retention_tick resumed=%s removed=%s",
        len(resumed),
        sum(item.removed for item in report.items),
    )
