"""The gateway's client of Rasa's REST channel, on loopback.

Rasa answers a message with a JSON list of ``{"text", "buttons"}`` items.
:func:`parse_bot_replies` keeps only text and button titles and payloads,
cleaned and capped; images, attachments and custom payloads are dropped.
Every failure (timeout, refused connection, an error status, a body that is
not the expected JSON) becomes one :class:`BotUnavailableError`, whose text
says nothing about the cause, so that no Rasa or action-server error can
reach a page.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from console.gateway_text import (
    MAX_BUTTON_PAYLOAD,
    MAX_BUTTON_TITLE,
    clean_bot_text,
)
from leads.errors import LeadguardError

log = logging.getLogger(__name__)

MAX_REPLIES = 20
MAX_BUTTONS = 10
MAX_RESPONSE_BYTES = 256 * 1024
CONNECT_TIMEOUT_SECONDS = 2.0


class BotUnavailableError(LeadguardError):
    """Rasa could not answer in time or answered with something unusable."""

    def __init__(self) -> None:
        super().__init__("the chat assistant is unavailable")


@dataclass(frozen=True)
class BotButton:
    """A quick reply offered by the bot."""

    title: str
    payload: str


@dataclass(frozen=True)
class BotReply:
    """One message of the bot, as plain text with optional quick replies."""

    text: str
    buttons: tuple[BotButton, ...] = field(default_factory=tuple)


def _parse_button(item: object) -> BotButton | None:
    if not isinstance(item, dict):
        return None
    title = clean_bot_text(item.get("title"), MAX_BUTTON_TITLE)
    payload = item.get("payload")
    if not title or not isinstance(payload, str):
        return None
    if not payload or not payload.isprintable():
        return None
    if len(payload) > MAX_BUTTON_PAYLOAD:
        return None
    return BotButton(title, payload)


def parse_bot_replies(body: object) -> list[BotReply]:
    """Turn Rasa's response body into plain replies.

    Raises:
        BotUnavailableError: the body is not a list of messages.
    """
    if not isinstance(body, list):
        raise BotUnavailableError
    replies: list[BotReply] = []
    for item in body[:MAX_REPLIES]:
        if not isinstance(item, dict):
            continue
        text = clean_bot_text(item.get("text"))
        raw_buttons = item.get("buttons")
        buttons: list[BotButton] = []
        if isinstance(raw_buttons, list):
            for raw in raw_buttons[:MAX_BUTTONS]:
                button = _parse_button(raw)
                if button is not None:
                    buttons.append(button)
        if text or buttons:
            replies.append(BotReply(text, tuple(buttons)))
    return replies


class RasaClient:
    """Sends one visitor message to Rasa and returns its plain replies.

    ``timeout_seconds`` bounds the whole exchange (connect, send, a slowly
    dripping answer), not just each network read.

    A new ``httpx.AsyncClient`` is made per call (cheap: the TLS context is
    built once), so the client never outlives the event loop it ran on.
    """

    def __init__(
        self,
        base_url: str,
        webhook_path: str,
        timeout_seconds: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/" + webhook_path.lstrip("/")
        self.deadline_seconds = timeout_seconds
        self.timeout = httpx.Timeout(
            timeout_seconds, connect=min(CONNECT_TIMEOUT_SECONDS, timeout_seconds)
        )
        self.transport = transport
        self._tls = ssl.create_default_context()

    def __repr__(self) -> str:
        return f"RasaClient({self.url!r})"

    async def send(
        self, session_id: str, text: str, metadata: dict[str, Any]
    ) -> list[BotReply]:
        """Post a message as ``session_id`` and return the bot's replies.

        Raises:
            BotUnavailableError: Rasa timed out, refused, failed or answered
                with an unexpected body. Its cause is logged by type only.
        """
        started = time.monotonic()
        payload = {"sender": session_id, "message": text, "metadata": metadata}
        try:
            async with (
                asyncio.timeout(self.deadline_seconds),
                httpx.AsyncClient(
                    timeout=self.timeout,
                    transport=self.transport,
                    verify=self._tls,
                    follow_redirects=False,
                    trust_env=False,
                ) as client,
            ):
                response = await client.post(self.url, json=payload)
            if response.status_code != 200:
                log.warning("rasa.error status=%s", response.status_code)
                raise BotUnavailableError
            if len(response.content) > MAX_RESPONSE_BYTES:
                log.warning("rasa.error reason=oversized")
                raise BotUnavailableError
            replies = parse_bot_replies(response.json())
        except (httpx.HTTPError, TimeoutError) as exc:
            log.warning("rasa.unreachable error=%s", type(exc).__name__)
            raise BotUnavailableError from exc
        except ValueError as exc:
            log.warning("rasa.error reason=invalid_json")
            raise BotUnavailableError from exc
        log.info(
            "rasa.replied replies=%s ms=%d",
            len(replies),
            (time.monotonic() - started) * 1000,
        )
        return replies
