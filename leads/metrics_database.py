"""Gauges read from the database when Prometheus scrapes.

State that outlives a process (how many leads sit in each tier, how many
nurture steps are due and how late the oldest is, how many outbox events
wait) is counted with one cheap aggregate query per scrape instead of being
kept in process memory, so that every console replica reports the same
numbers and a restart loses nothing.

The nurture tables belong to the ``nurture`` package; when they do not exist
(a database migrated without it) those gauges are simply absent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from leads.models import Tier, utcnow

log = logging.getLogger(__name__)

# nurture's schedule: one row per enrolment with the time its next step is due
DUE_TABLE = "nurture_enrollments"
DUE_COLUMN = "next_due_at"
DUE_STATUS_COLUMN = "status"
DUE_ACTIVE_STATUS = "active"


class DatabaseCollector(Collector):
    """Collect state gauges from the database at scrape time.

    A failing query does not fail the scrape: ``leadguard_database_up`` turns
    0 and the other gauges are left out, so that an alert can fire on it.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._has_due_table: bool | None = None

    def describe(self) -> list[GaugeMetricFamily]:
        """Describe nothing up front, so registering runs no query."""
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
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

    def _read(self) -> Iterator[GaugeMetricFamily]:
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

            if self._due_table_exists():
                yield from self._due_steps(connection)

    def _due_table_exists(self) -> bool:
        if self._has_due_table is None:
            columns = (
                {
                    column["name"]
                    for column in inspect(self._engine).get_columns(DUE_TABLE)
                }
                if inspect(self._engine).has_table(DUE_TABLE)
                else set()
            )
            self._has_due_table = {DUE_COLUMN, DUE_STATUS_COLUMN} <= columns
        return self._has_due_table

    def _due_steps(self, connection) -> Iterator[GaugeMetricFamily]:  # type: ignore[no-untyped-def]
        now = utcnow()
        row = connection.execute(
            text(
                f"SELECT count(*), min({DUE_COLUMN}) FROM {DUE_TABLE} "  # noqa: S608 - constants
                f"WHERE {DUE_STATUS_COLUMN} = :active AND {DUE_COLUMN} <= :now"
            ),
            {"active": DUE_ACTIVE_STATUS, "now": now},
        ).one()
        waiting = GaugeMetricFamily(
            "leadguard_nurture_due_steps",
            "Nurture steps whose time has come and that are not sent yet.",
        )
        waiting.add_metric([], int(row[0]))
        yield waiting
        lag = GaugeMetricFamily(
            "leadguard_nurture_due_lag_seconds",
            "How late the oldest due nurture step is (0 when none is due).",
        )
        oldest = row[1]
        if oldest is None:
            lag.add_metric([], 0.0)
        else:
            if isinstance(oldest, str):
                from datetime import datetime

                oldest = datetime.fromisoformat(oldest)
            if oldest.tzinfo is None:
                from datetime import UTC

                oldest = oldest.replace(tzinfo=UTC)
            lag.add_metric([], max((now - oldest).total_seconds(), 0.0))
        yield lag
