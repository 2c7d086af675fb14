"""The redacting REST input channel (``credentials.yml``).

.. code-block:: yaml

    bot.channel.RedactingRestInput:

Webhook: ``POST /webhooks/redacting_rest/webhook`` with
``{"sender": "<opaque session id>", "message": "...", "metadata": {...}}``;
the answer is a JSON list of ``{"recipient_id", "text", "buttons"}``.

Every message goes through :func:`bot.redaction.redact` before Rasa sees it:
the NLU, the tracker store and every log only ever get the redacted text.
The kinds removed travel in the message metadata (``{"leadguard":
{"redacted": [...]}}``) so the bot can tell the visitor; if no reply said
so, the channel adds the notice itself.

The channel is also where a broken conversation store becomes loud:

* after start-up it checks that the agent's tracker store is
  :class:`bot.tracker_store.EncryptedSQLTrackerStore` (Rasa silently falls
  back to an in-memory store when it cannot import a custom one) and stops
  the server with exit status 78 if not (and then purges expired
  conversations once);
* after each message it asks the store whether saving or loading this
  conversation failed (Rasa's fail-safe wrapper would otherwise answer from
  a lost or in-memory conversation) and answers 503 instead.

``GET /webhooks/redacting_rest/`` reports the store in use, for health
checks and the end-to-end test.

Limits: the channel does not authenticate its caller; it must listen on
loopback (``rasa run -i 127.0.0.1``) behind the console gateway.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import action_validation
from bot.redaction import describe, redact

log = logging.getLogger(__name__)

# Loaded by the Rasa server at start-up: compile the action answer schema once.
action_validation.install()

METADATA_KEY = "leadguard"
MAX_MESSAGE_CHARS = 2_000
MAX_SENDER_CHARS = 64
EXIT_STORE_NOT_ENCRYPTED = 78
REMOVED_MARKER = "removed"


def unwrap_tracker_store(store: Any) -> Any:
    """Return the store inside Rasa's fail-safe and awaitable wrappers."""
    seen = 0
    while hasattr(store, "_tracker_store") and seen < 5:
        store = store._tracker_store
        seen += 1
    return store


def encrypted_store_of(app: Sanic) -> Any | None:
    """Return the app's encrypted tracker store, or None if another is in use."""
    agent = getattr(app.ctx, "agent", None)
    store = unwrap_tracker_store(getattr(agent, "tracker_store", None))
    if getattr(store, "is_leadguard_encrypted", False):
        return store
    return None


def verify_encrypted_store(app: Sanic) -> bool:
    """Log which tracker store serves the agent; return whether it is ours."""
    agent = getattr(app.ctx, "agent", None)
    store = unwrap_tracker_store(getattr(agent, "tracker_store", None))
    if encrypted_store_of(app) is None:
        log.critical(
            "tracker_store.not_encrypted class=%s: refusing to serve",
            type(store).__name__,
        )
        return False
    log.info("tracker_store.verified class=%s", type(store).__name__)
    return True


def purge_on_start(app: Sanic) -> None:
    """Delete expired conversations once at start-up (retention)."""
    store = encrypted_store_of(app)
    try:
        removed = store.purge_expired() if store is not None else 0
    except Exception as exc:
        log.error("tracker_store.purge_failed error=%s", type(exc).__name__)
        return
    log.info("tracker_store.purged_on_start count=%s", removed)


def _notice_given(messages: list[dict[str, Any]]) -> bool:
    return any(REMOVED_MARKER in str(m.get("text") or "") for m in messages)


class RedactingRestInput(RestInput):
    """A REST channel that removes sensitive numbers before Rasa sees them."""

    @classmethod
    def name(cls) -> str:
        """Return the channel's name (the webhook path segment)."""
        return "redacting_rest"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """Build the webhook, the status route and the start-up check."""
        module = inspect.getmodule(self)
        hook = Blueprint(
            f"custom_webhook_{type(self).__name__}",
            module.__name__ if module else None,
        )

        @hook.listener("after_server_start")
        async def check_store(app: Sanic, _loop: Any) -> None:
            if not verify_encrypted_store(app):
                os._exit(EXIT_STORE_NOT_ENCRYPTED)
            purge_on_start(app)

        @hook.route("/", methods=["GET"])
        async def status(request: Request) -> HTTPResponse:
            store = encrypted_store_of(request.app)
            body = {
                "status": "ok" if store is not None else "unavailable",
                "tracker_store": type(store).__name__ if store else None,
            }
            return response.json(body, status=200 if store is not None else 503)

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        return hook

    async def _receive(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> HTTPResponse:
        payload = request.json if isinstance(request.json, dict) else {}
        sender = payload.get("sender")
        text = payload.get("message")
        if not isinstance(sender, str) or not 0 < len(sender) <= MAX_SENDER_CHARS:
            return response.json({"error": "invalid sender"}, status=400)
        if not isinstance(text, str) or len(text) > MAX_MESSAGE_CHARS:
            return response.json({"error": "invalid message"}, status=400)
        store = encrypted_store_of(request.app)
        if store is None:
            return response.json({"error": "conversation store unavailable"}, 503)

        redacted = redact(text)
        metadata = payload.get("metadata")
        metadata = dict(metadata) if isinstance(metadata, dict) else {}
        metadata[METADATA_KEY] = {"redacted": list(redacted.kinds)}
        if redacted.changed:
            log.info("message.redacted kinds=%s", ",".join(redacted.kinds))

        collector = CollectingOutputChannel()
        message = UserMessage(
            redacted.text,
            collector,
            sender,
            input_channel=self.name(),
            metadata=metadata,
        )
        try:
            await on_new_message(message)
        except Exception as exc:
            log.error("message.failed error=%s", type(exc).__name__)
            return response.json({"error": "the assistant failed"}, status=500)
        if store.take_failure(sender):
            return response.json({"error": "conversation store unavailable"}, 503)

        messages = list(collector.messages)
        if redacted.changed and not _notice_given(messages):
            messages.insert(
                0,
                {
                    "recipient_id": sender,
                    "text": (
                        f"I removed {describe(redacted.kinds)} from your message: "
                        "we never keep card, MyKad, passport or bank account "
                        "numbers."
                    ),
                },
            )
        return response.json(messages)
