"""The action server: ``python -m actions.server``.

It binds to the loopback interface only (``127.0.0.1``, port
``LEADGUARD_ACTION_SERVER_PORT``, default 5055), in a single process, with
no CORS (only the Rasa server on the same host calls it).

rasa_sdk's own error handler answers a failure with the exception text and
the whole request body, which holds the tracker and so every slot: the
visitor's name, email and phone. It is replaced by one that logs the
exception's class and answers a fixed, generic body. Selective domain stays
off in Rasa (``endpoints.yml``), so rasa_sdk never answers 449.
"""

from __future__ import annotations

import argparse
import logging
import warnings
from typing import Any

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sqlalchemy.exc import SQLAlchemyError

from actions.vault_access import get_vault
from leads.errors import LeadguardError
from leads.logconfig import configure_logging
from leads.scoring import default_rules
from leads.settings import get_settings

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
APP_NAME = "leadguard_actions"
GENERIC_ERROR_BODY = {"error": "the action failed"}
# Loggers that would print request bodies or trackers at DEBUG.
QUIET_LOGGERS = ("rasa_sdk", "sanic.access")


async def generic_error(request: Request, exception: Exception) -> Any:
    """Answer every unhandled error with a fixed body; log only the class."""
    status = int(getattr(exception, "status_code", 500) or 500)
    if status >= 500:
        log.error("action_server.error error=%s", type(exception).__name__)
    else:
        log.info("action_server.rejected status=%s", status)
    return response.json(GENERIC_ERROR_BODY, status=status)


def build_app() -> Sanic[Any, Any]:
    """Create the Sanic app with every action of the ``actions`` package."""
    executor = ActionExecutor()
    executor.register_package("actions")
    app = create_app(executor, cors_origins=None)
    # Replace (not add to) rasa_sdk's handler, which echoes the request body.
    handlers = app.error_handler.cached_handlers
    for key in [key for key in handlers if issubclass(key[0], Exception)]:
        del handlers[key]
    app.error_handler.add(Exception, generic_error)
    built: Sanic[Any, Any] = app
    return built


def check_start_up() -> None:
    """Load the scoring rules and open the vault before serving.

    Raises:
        SystemExit: the rules file is invalid (the message names file, line
            and reason), or the key ring or database is unusable.
    """
    try:
        default_rules()
        get_vault()
    except LeadguardError as exc:
        log.critical("action_server.cannot_start reason=%s", exc)
        raise SystemExit(f"action server: {exc}") from None
    except SQLAlchemyError as exc:
        log.critical("action_server.cannot_start error=%s", type(exc).__name__)
        raise SystemExit(
            "action server: the database is unusable; run 'leadguard db upgrade'"
        ) from None


def main(argv: list[str] | None = None) -> None:
    """Run the action server on the loopback interface until stopped."""
    parser = argparse.ArgumentParser(description="leadguard action server")
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging()
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    port = args.port or settings.action_server_port
    check_start_up()
    # rasa_sdk 3.21 warns on every Rasa 3.6 call; the pairing is proven by
    # the end-to-end test (tests/bot/test_end_to_end.py).
    warnings.filterwarnings("ignore", message=".*rasa_sdk.*", category=UserWarning)
    app = build_app()
    log.info("action_server.starting host=%s port=%s", HOST, port)
    app.run(
        host=HOST,
        port=port,
        single_process=True,
        access_log=False,
        motd=False,
    )


if __name__ == "__main__":
    main()
