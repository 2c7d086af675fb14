"""The SMTP relay connection used by every email leadguard sends.

STARTTLS with certificate and host name verification is required, unless
``LEADGUARD_SMTP_SECURITY=dev-sink`` names the local development sink, which
is accepted only on a loopback address and outside production.

:meth:`SmtpRelay.deliver` sends a message in one SMTP transaction and can
run a callback after the body has been transmitted but before the final
``.`` that makes the server accept it. The nurture sender claims its send
record there, so a worker that dies before the claim never delivered the
message, and one that dies after it is known to have (see
``nurture.sender``).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import smtplib
import socket
import ssl
from collections.abc import Callable

from leads.errors import ConfigurationError
from leads.settings import Settings
from nurture.errors import (
    DeliveryOutcomeUnknownError,
    MailDeliveryError,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)

__all__ = ["SmtpRelay", "check_relay_settings"]

log = logging.getLogger(__name__)

_LEADING_DOT = re.compile(rb"(?m)^\.")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_relay_settings(settings: Settings) -> None:
    """Refuse an SMTP configuration that would send without TLS.

    Raises:
        ConfigurationError: ``dev-sink`` is set in production or for a host
            that is not a loopback address.
    """
    if settings.smtp_security != "dev-sink":
        return
    if settings.environment == "production":
        raise ConfigurationError(
            "LEADGUARD_SMTP_SECURITY: production needs starttls, not dev-sink"
        )
    if not _is_loopback(settings.smtp_host):
        raise ConfigurationError(
            "LEADGUARD_SMTP_SECURITY: dev-sink is only allowed on a loopback host"
        )


def _classify(code: int, reason: str, stage: str) -> MailDeliveryError:
    if 500 <= code < 600:
        return PermanentDeliveryError(code, reason, stage)
    return TemporaryDeliveryError(code, reason, stage)


class SmtpRelay:
    """One SMTP connection, opened on first use and reused between messages.

    Not thread-safe: use one per worker process or thread.
    """

    def __init__(self, settings: Settings) -> None:
        check_relay_settings(settings)
        self._settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __repr__(self) -> str:
        return f"SmtpRelay({self._settings.smtp_host}:{self._settings.smtp_port})"

    def _connect(self) -> smtplib.SMTP:
        settings = self._settings
        try:
            smtp = smtplib.SMTP(
                settings.smtp_host,
                settings.smtp_port,
                timeout=settings.smtp_timeout_seconds,
            )
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryDeliveryError(0, "cannot connect to the relay") from exc
        try:
            # The body and the final "." are two writes; without NODELAY,
            # Nagle's algorithm holds the "." until the body is acknowledged.
            if smtp.sock is not None:
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo()
            if settings.smtp_security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise TemporaryDeliveryError(0, "relay does not offer STARTTLS")
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.smtp_username:
                password = settings.smtp_password
                smtp.login(
                    settings.smtp_username,
                    password.get_secret_value() if password else "",
                )
        except MailDeliveryError:
            smtp.close()
            raise
        except smtplib.SMTPAuthenticationError as exc:
            smtp.close()
            raise TemporaryDeliveryError(exc.smtp_code, "relay login refused") from exc
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            smtp.close()
            raise TemporaryDeliveryError(0, "relay handshake failed") from exc
        return smtp

    def close(self) -> None:
        """Say QUIT and close the connection, ignoring a dead peer."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def deliver(
        self,
        *,
        sender: str,
        recipient: str,
        message: bytes,
        smtputf8: bool = False,
        before_final_dot: Callable[[], bool] | None = None,
    ) -> bool:
        """Send ``message`` (CRLF line endings) to one recipient.

        ``before_final_dot`` runs once the whole body is on the wire and
        before the ``.`` line that commits the server to the message. When
        it returns False the connection is dropped mid-DATA, which makes the
        server discard the message.

        Returns:
            True when the relay accepted the message, False when the
            callback aborted it.

        Raises:
            TemporaryDeliveryError: a 4xx reply or a network or TLS failure.
            PermanentDeliveryError: a 5xx reply.
        """
        options = ["SMTPUTF8", "BODY=8BITMIME"] if smtputf8 else []
        fresh = self._smtp is None
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            code, reply = self._smtp.mail(sender, options)
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self._drop()
            if fresh:
                raise TemporaryDeliveryError(0, "relay connection lost") from exc
            return self.deliver(
                sender=sender,
                recipient=recipient,
                message=message,
                smtputf8=smtputf8,
                before_final_dot=before_final_dot,
            )
        try:
            return self._transaction(code, reply, recipient, message, before_final_dot)
        except MailDeliveryError:
            raise
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise TemporaryDeliveryError(0, "relay connection lost") from exc

    def _transaction(
        self,
        code: int,
        reply: bytes,
        recipient: str,
        message: bytes,
        before_final_dot: Callable[[], bool] | None,
    ) -> bool:
        smtp = self._smtp
        assert smtp is not None  # noqa: S101 - set by deliver()
        if code != 250:
            self._reset()
            raise _classify(code, "sender refused", "sender")
        code, _ = smtp.rcpt(recipient)
        if code not in (250, 251):
            self._reset()
            raise _classify(code, "recipient refused", "recipient")
        code, _ = smtp.docmd("DATA")
        if code != 354:
            self._reset()
            raise _classify(code, "DATA refused", "data")
        body = _LEADING_DOT.sub(b"..", message)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        smtp.send(body)
        if before_final_dot is not None:
            try:
                go_ahead = before_final_dot()
            except BaseException:
                self._drop()
                raise
            if not go_ahead:
                self._drop()
                return False
        smtp.send(b".\r\n")
        try:
            code, _ = smtp.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise DeliveryOutcomeUnknownError(
                0, "no reply to the final dot", "message"
            ) from exc
        if code != 250:
            raise _classify(code, "message refused", "message")
        return True

    def _reset(self) -> None:
        smtp = self._smtp
        if smtp is None:
            return
        try:
            smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()


def relay_reachable(settings: Settings) -> bool:
    """Whether something listens on the relay's address (for health checks)."""
    try:
        with socket.create_connection(
            (settings.smtp_host, settings.smtp_port), timeout=2
        ):
            return True
    except OSError:
        return False
