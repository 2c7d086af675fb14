"""The Celery application of the nurture worker and beat.

Start a worker with ``celery -A nurture.celery_app worker`` and the
scheduler with ``celery -A nurture.celery_app beat``. The broker is
``LEADGUARD_BROKER_URL``: kombu's SQLAlchemy transport on a SQLite file by
default (no server), Redis or RabbitMQ in production. Only JSON is
accepted, tasks carry ids only, and every task is acknowledged late and
rejected (so redelivered) when its worker process is lost.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import setup_logging

from leads.errors import LeadguardError
from leads.settings import Settings, get_settings

__all__ = ["app", "celery_config"]

QUEUE = "nurture"
VISIBILITY_TIMEOUT_SECONDS = 3600


def celery_config(settings: Settings) -> dict[str, Any]:
    """Return the Celery configuration derived from leadguard's settings."""
    transport_options: dict[str, Any] = {}
    if settings.broker_url.startswith(("redis://", "rediss://")):
        transport_options["visibility_timeout"] = VISIBILITY_TIMEOUT_SECONDS
    return {
        "broker_url": settings.broker_url,
        "broker_transport_options": transport_options,
        "broker_connection_retry_on_startup": True,
        "task_default_queue": QUEUE,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "result_backend": None,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 8,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "timezone": "UTC",
        "enable_utc": True,
        "beat_schedule": {
            "nurture-tick": {
                "task": "nurture.tick",
                "schedule": settings.nurture_tick_seconds,
                "options": {"expires": settings.nurture_tick_seconds * 2},
            },
            "privacy-retention": {
                "task": "privacy.retention",
                "schedule": settings.retention_interval_seconds,
                "options": {"expires": settings.retention_interval_seconds},
            },
        },
    }


@setup_logging.connect  # type: ignore[untyped-decorator]
def _configure_logging(**_: Any) -> None:
    from leads.logconfig import configure_logging

    configure_logging()


def _check_start_up(settings: Settings) -> None:
    """Stop a worker or beat at start-up on a broken sequence or SMTP setting.

    The message is the one line of the error (``<file>:<line>: <reason>``).
    """
    from nurture.relay import check_relay_settings
    from nurture.sender import check_link_settings
    from nurture.sequences import default_sequences

    try:
        check_relay_settings(settings)
        check_link_settings(settings)
        default_sequences()
    except LeadguardError as exc:
        raise SystemExit(f"error: {exc}") from exc


app = Celery("leadguard", include=["nurture.tasks", "leads.retention_task"])
app.config_from_object(celery_config(get_settings()))
_check_start_up(get_settings())
