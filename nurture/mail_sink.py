"""The local development SMTP sink: every message becomes an ``.eml`` file.

Run with ``python -m nurture.mail_sink`` (``make run`` starts it). It
listens on 127.0.0.1 at ``LEADGUARD_MAIL_SINK_PORT`` and writes each
accepted message to ``<LEADGUARD_VAR_DIR>/mail/`` atomically (a temporary
file renamed into place) before answering 250, so a message the sender saw
accepted is always on disk. It keeps no other state and relays nothing.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer  # noqa: N811
from aiosmtpd.smtp import Envelope, Session

from leads.settings import get_settings

__all__ = ["MailFolderHandler", "mail_dir", "quiet_smtp_logs", "start_sink"]

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
AIOSMTPD_LOGGER = "mail.log"


def mail_dir(var_dir: Path | None = None) -> Path:
    """Return the folder where the sink keeps messages."""
    base = var_dir if var_dir is not None else get_settings().var_dir
    return base.resolve() / "mail"


class MailFolderHandler:
    """An aiosmtpd handler that stores every message in a folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(  # noqa: N802 - aiosmtpd hook name
        self, server: SMTPServer, session: Session, envelope: Envelope
    ) -> str:
        """Write the message to ``<ns timestamp>-<random>.eml``; answer 250."""
        content = envelope.original_content or b""
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        partial = self.folder / f".{name}.tmp"
        partial.write_bytes(content)
        os.replace(partial, self.folder / f"{name}.eml")
        log.info("mail_sink.stored bytes=%s", len(content))
        return "250 Message accepted for delivery"


class _Controller(Controller):
    def factory(self) -> SMTPServer:
        return SMTPServer(
            self.handler,
            data_size_limit=MAX_MESSAGE_BYTES,
            enable_SMTPUTF8=True,
            decode_data=False,
        )


def quiet_smtp_logs() -> None:
    """Hold aiosmtpd's logger at WARNING: at DEBUG it logs every data line."""
    logging.getLogger(AIOSMTPD_LOGGER).setLevel(logging.WARNING)


def start_sink(folder: Path, host: str = "127.0.0.1", port: int = 8025) -> Any:
    """Start the sink in a background thread and return its controller."""
    quiet_smtp_logs()
    controller = _Controller(MailFolderHandler(folder), hostname=host, port=port)
    controller.start()
    return controller


def main() -> None:
    """Run the sink until SIGINT or SIGTERM."""
    from leads.logconfig import configure_logging

    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m nurture.mail_sink")
    parser.add_argument("--port", type=int, default=settings.mail_sink_port)
    parser.add_argument("--folder", type=Path, default=mail_dir(settings.var_dir))
    args = parser.parse_args()
    configure_logging()
    quiet_smtp_logs()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    controller = start_sink(args.folder, port=args.port)
    log.info("mail_sink.listening port=%s folder=%s", args.port, args.folder)
    print(f"mail sink listening on 127.0.0.1:{args.port}", flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
