"""Logging set-up: one line per event, no message bodies, no values."""

from __future__ import annotations

import logging
import sys

from leads.logfilters import PersonalDataScrubber, RequestIdFilter
from leads.settings import get_settings

FORMAT = "%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s %(message)s"

# Third-party loggers that log request or message bodies at DEBUG.
QUIET_LOGGERS = ("sqlalchemy.engine", "httpx", "httpcore", "kombu", "amqp")


def configure_logging(level: str | None = None) -> None:
    """Configure the root logger once for a process.

    Loggers of libraries that would log payloads are held at WARNING. Every
    line carries the current request id and passes the personal-data
    scrubber (:mod:`leads.logfilters`).
    """
    chosen = level or get_settings().log_level
    root = logging.getLogger()
    if not any(getattr(h, "_leadguard", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(RequestIdFilter())
        handler.addFilter(PersonalDataScrubber())
        handler._leadguard = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(chosen)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
