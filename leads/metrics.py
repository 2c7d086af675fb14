"""Prometheus metrics every leadguard process may record.

Import the recording functions, not the metric objects::

    from leads.metrics import record_chat_turn, record_email

    record_chat_turn(seconds=0.12, outcome="ok")
    record_email("sent")

Label values come from small fixed sets (see the ``*_OUTCOMES`` constants
and :class:`leads.models.Tier`); anything else is recorded as ``other``. So
a label can never carry an address, a name or a token, and a caller's bug
cannot blow up the number of time series.

Several processes (uvicorn, Celery worker and beat) record into one view
through prometheus_client's multiprocess mode: when the environment variable
``PROMETHEUS_MULTIPROC_DIR`` names a directory *before* this module is first
imported, each process writes its values to memory-mapped files there and
:func:`multiprocess_registry` sums them at scrape time. ``make run`` sets it
to ``var/metrics`` and empties that directory on start; each container of
``docker-compose.yml`` writes to its own sub-directory of a shared volume
(see ``deploy/entrypoint.sh``). Without the variable, every process keeps
its own values in memory (the tests do this).

Limits: multiprocess gauges are summed over live and dead processes, so this
module records only counters and histograms; current state (leads by tier,
due nurture steps and their lag) is read from the database at scrape time by
:class:`leads.metrics_database.DatabaseCollector`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from leads.models import Tier

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
METRICS_ROOT_ENV = "LEADGUARD_METRICS_ROOT"
OTHER = "other"


def _prepare_multiprocess_dir() -> None:
    """Create the multiprocess directory before the first metric needs it."""
    configured = os.environ.get(MULTIPROC_ENV)
    if configured:
        Path(configured).mkdir(parents=True, exist_ok=True)


_prepare_multiprocess_dir()

CHAT_OUTCOMES = frozenset({"ok", "error", "rejected", "rate_limited"})
EMAIL_OUTCOMES = frozenset({"sent", "failed", "suppressed"})
TIERS = frozenset(tier.value for tier in Tier)

CHAT_TURNS = Counter(
    "leadguard_chat_turns",
    "Chat turns relayed by the gateway, by outcome.",
    ["outcome"],
)
CHAT_TURN_SECONDS = Histogram(
    "leadguard_chat_turn_seconds",
    "Time from a visitor's message to the bot's reply at the gateway.",
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
LEADS_CAPTURED = Counter(
    "leadguard_leads_captured",
    "Leads written to the vault, by qualification tier.",
    ["tier"],
)
EMAILS = Counter(
    "leadguard_emails",
    "Nurture emails by outcome: sent, failed or suppressed.",
    ["outcome"],
)
REVEALS = Counter(
    "leadguard_reveals",
    "Logged reveals of a lead's personal fields in the console.",
)
EXPORTS = Counter(
    "leadguard_exports",
    "Lead exports made from the console.",
)
HTTP_REQUESTS = Counter(
    "leadguard_http_requests",
    "HTTP requests served by the console, by route template and status class.",
    ["route", "status"],
)
HTTP_SECONDS = Histogram(
    "leadguard_http_request_seconds",
    "Console request duration by route template.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


def _bounded(value: str, allowed: frozenset[str]) -> str:
    return value if value in allowed else OTHER


def record_chat_turn(seconds: float, outcome: str = "ok") -> None:
    """Count one chat turn and, when it succeeded, its duration.

    Args:
        seconds: wall time the gateway spent on the turn.
        outcome: one of :data:`CHAT_OUTCOMES`; anything else counts as other.
    """
    label = _bounded(outcome, CHAT_OUTCOMES)
    CHAT_TURNS.labels(outcome=label).inc()
    if label == "ok":
        CHAT_TURN_SECONDS.observe(max(seconds, 0.0))


def record_lead_captured(tier: str) -> None:
    """Count one lead written to the vault under its tier."""
    LEADS_CAPTURED.labels(tier=_bounded(str(tier), TIERS)).inc()


def record_email(outcome: str) -> None:
    """Count one nurture email: ``sent``, ``failed`` or ``suppressed``."""
    EMAILS.labels(outcome=_bounded(outcome, EMAIL_OUTCOMES)).inc()


def record_reveal() -> None:
    """Count one reveal of a lead's personal fields."""
    REVEALS.inc()


def record_export() -> None:
    """Count one lead export."""
    EXPORTS.inc()


def record_http_request(route: str, status: int, seconds: float) -> None:
    """Count one console request under its route *template*.

    ``route`` must be the template (``/privacy/unsubscribe/{token}``), never
    the requested path, which may carry a token.
    """
    status_class = f"{status // 100}xx" if 100 <= status < 600 else OTHER
    HTTP_REQUESTS.labels(route=route, status=status_class).inc()
    HTTP_SECONDS.labels(route=route).observe(max(seconds, 0.0))


def multiprocess_dir() -> Path | None:
    """Return this process's multiprocess directory, or None (single mode)."""
    configured = os.environ.get(MULTIPROC_ENV)
    return Path(configured) if configured else None


def scrape_root() -> Path | None:
    """Return the directory whose processes a scrape sums, or None.

    ``LEADGUARD_METRICS_ROOT`` (the compose stack's shared volume, one
    sub-directory per container) when set, else this process's own
    multiprocess directory (``make run``: one directory for all).
    """
    configured = os.environ.get(METRICS_ROOT_ENV)
    return Path(configured) if configured else multiprocess_dir()


class _TreeCollector(Collector):
    """Merge the multiprocess files under a directory and its sub-directories.

    Each container of the compose stack writes into its own sub-directory
    (process ids repeat across containers), so the files of all of them are
    summed here, at scrape time.
    """

    def __init__(self, root: Path) -> None:
        self._root = root

    def collect(self) -> Iterable[Metric]:
        """Return the merged metrics of every process under the root."""
        files = sorted(
            str(path)
            for pattern in ("*.db", "*/*.db")
            for path in self._root.glob(pattern)
        )
        merged: Iterable[Metric] = MultiProcessCollector.merge(  # type: ignore[no-untyped-call]
            files, accumulate=True
        )
        return merged


def multiprocess_registry(root: Path) -> CollectorRegistry:
    """Return a registry that sums every process's values under ``root``."""
    registry = CollectorRegistry()
    registry.register(_TreeCollector(root))
    return registry


def reset_multiprocess_dir(root: Path) -> None:
    """Empty a multiprocess directory before the processes start.

    Call it only while no process is writing there (``make run`` does it
    before honcho starts): the files of a previous run would otherwise be
    added to the new one.
    """
    root.mkdir(parents=True, exist_ok=True)
    for pattern in ("*.db", "*/*.db"):
        for path in root.glob(pattern):
            path.unlink()
