"""Metrics read from the database when Prometheus scrapes.

State that outlives a process is counted with a few cheap aggregate queries
per scrape instead of being kept in process memory, so that every console
replica reports the same numbers and a restart loses nothing:

- ``leadguard_leads{tier}``: leads in the vault by qualification tier;
- ``leadguard_nurture_due_steps{stage}`` and
  ``leadguard_nurture_due_lag_seconds``: steps whose time has come, and how
  late the oldest one is;
- ``leadguard_nurture_sends{state}``: send records by state (``sent``,
  ``failed``, ``cancelled`` for suppressed or unsubscribed, ...);
- ``leadguard_reveals_audited_total``, ``leadguard_exports_audited_total``,
  ``leadguard_erasures_audited_total``: counted in the append-only audit
  log, so they are true counters;
- ``leadguard_outbox_pending`` and ``leadguard_database_up``.

On SQLite every connection begins with ``BEGIN IMMEDIATE`` (see
:mod:`leads.database`), so a scrape briefly holds the write lock; scrape the
embedded stack no more often than every few seconds.

The nurture tables belong to the ``nurture`` package; when they do not exist
(a database migrated without it) those gauges are simply absent.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import (
    Connection,
    Engine,
    String,
    column,
    func,
    inspect,
    select,
    table,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from leads.models import Tier, UtcDateTime, utcnow

log = logging.getLogger(__name__)

# nurture's schedule, described here without importing the nurture package:
# an enrollment waits with ``next_due_at`` set until the beat claims it; a
# claimed step is a ``queued`` send row until a worker sends it.
ENROLLMENTS = table(
    "nurture_enrollments",
    column("state", String()),
    column("next_due_at", UtcDateTime()),
)
SENDS = table(
    "nurture_sends",
    column("state", String()),
    column("due_at", UtcDateTime()),
    column("created_at", UtcDateTime()),
)


AUDIT = table("audit_events", column("action", String()))
AUDITED_COUNTERS = (
    (
        "leadguard_reveals_audited",
        "Reveals of a lead's personal fields, from the audit log.",
        AUDIT.c.action.like("lead.revealed.%"),
    ),
    (
        "leadguard_exports_audited",
        "Lead exports made in the console, from the audit log.",
        AUDIT.c.action == "export.created",
    ),
    (
        "leadguard_erasures_audited",
        "Subjects erased, from the audit log.",
        AUDIT.c.action == "subject.erased",
    ),
)


class DatabaseCollector(Collector):
    """Collect state gauges from the database at scrape time.

    A failing query does not fail the scrape: ``leadguard_database_up`` turns
    0 and the other gauges are left out, so that an alert can fire on it.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._has_due_tables: bool | None = None

    def describe(self) -> list[Metric]:
        """Describe nothing up front, so registering runs no query."""
        return []

    def collect(self) -> Iterator[Metric]:
        """Yield the gauges; one short read-only connection per scrape."""
        up = GaugeMetricFamily(
            "leadguard_database_up", "Whether the metrics queries succeeded."
        )
        try:
            families = list(self._read())
        except SQLAlchemyError:
            log.warning("metrics.database_unavailable")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> Iterator[Metric]:
        with self._engine.connect() as connection:
            leads = GaugeMetricFamily(
                "leadguard_leads",
                "Leads in the vault, by qualification tier.",
                labels=["tier"],
            )
            counts = dict.fromkeys((tier.value for tier in Tier), 0)
            rows = connection.execute(
                text("SELECT tier, count(*) FROM leads GROUP BY tier")
            )
            for tier, count in rows:
                if tier in counts:
                    counts[tier] = int(count)
            for tier, count in counts.items():
                leads.add_metric([tier], count)
            yield leads

            pending = connection.execute(
                text("SELECT count(*) FROM outbox_events WHERE processed_at IS NULL")
            ).scalar_one()
            outbox = GaugeMetricFamily(
                "leadguard_outbox_pending", "Outbox events not yet processed."
            )
            outbox.add_metric([], int(pending))
            yield outbox

            yield from self._audited(connection)

            if self._due_tables_exist(connection):
                yield from self._due_steps(connection)
                yield from self._sends(connection)

    def _audited(self, connection: Connection) -> Iterator[Metric]:
        # The audit log is append-only, so these counts only ever grow: they
        # are counters, exact across replicas and restarts.
        for name, documentation, condition in AUDITED_COUNTERS:
            count = connection.execute(
                select(func.count()).select_from(AUDIT).where(condition)
            ).scalar_one()
            family = CounterMetricFamily(name, documentation)
            family.add_metric([], int(count))
            yield family

    def _sends(self, connection: Connection) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "leadguard_nurture_sends",
            "Nurture send records by state (sent, failed, cancelled, ...).",
            labels=["state"],
        )
        rows = connection.execute(
            select(SENDS.c.state, func.count()).group_by(SENDS.c.state)
        )
        for state, count in sorted(rows):
            family.add_metric([str(state)], int(count))
        yield family

    def _due_tables_exist(self, connection: Connection) -> bool:
        # cached once found; looked up again while missing (a later migration)
        if not self._has_due_tables:
            inspector = inspect(connection)
            self._has_due_tables = all(
                inspector.has_table(name) for name in (ENROLLMENTS.name, SENDS.name)
            )
        return bool(self._has_due_tables)

    def _due_steps(self, connection: Connection) -> Iterator[Metric]:
        now = utcnow()
        unclaimed = connection.execute(
            select(func.count(), func.min(ENROLLMENTS.c.next_due_at)).where(
                ENROLLMENTS.c.state == "active", ENROLLMENTS.c.next_due_at <= now
            )
        ).one()
        send_due = func.coalesce(SENDS.c.due_at, SENDS.c.created_at)
        queued = connection.execute(
            select(func.count(), func.min(send_due)).where(
                SENDS.c.state == "queued", send_due <= now
            )
        ).one()
        waiting = GaugeMetricFamily(
            "leadguard_nurture_due_steps",
            "Nurture steps whose time has come and that are not sent yet.",
            labels=["stage"],
        )
        waiting.add_metric(["unclaimed"], int(unclaimed[0]))
        waiting.add_metric(["queued"], int(queued[0]))
        yield waiting
        oldest = [when for when in (unclaimed[1], queued[1]) if when is not None]
        lag = GaugeMetricFamily(
            "leadguard_nurture_due_lag_seconds",
            "How late the oldest due nurture step is (0 when none is due).",
        )
        late = (now - _as_utc(min(oldest))).total_seconds() if oldest else 0.0
        lag.add_metric([], max(late, 0.0))
        yield lag


def _as_utc(value: dt.datetime | str) -> dt.datetime:
    """Read an aggregate's timestamp (SQLite returns min() as plain text)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)
