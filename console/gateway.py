"""The chat gateway: the only way from the website widget to the bot.

Two JSON endpoints, called cross-origin by the widget on allowlisted sites:

``POST /chat/session``
    Issues an opaque random session id (as a signed token) and returns the
    bot's greeting.
``POST /chat/message``
    Forwards one visitor message, typed (``text``) or a quick reply
    (``reply``, a token the gateway signed), and returns the bot's replies.

Each request is checked in this order: the ``Origin`` is on the allowlist
(``LEADGUARD_ALLOWED_ORIGINS`` plus the console's own origin), the client
address is under its rate, the body is JSON and under the size limit, the
session token verifies, the session is under its rate, the text is cleaned
(:mod:`console.gateway_text`) and redacted (:mod:`console.gateway_redaction`).
Only then does anything reach Rasa, over loopback, with timeouts.

Errors are JSON ``{"error": code, "message": text, "retry": bool}`` with a
fitting status (400, 401, 403, 413, 415, 429, 503). Rasa's and the action
server's errors never pass through; a slow or failed bot gives 503 with
``retry: true`` and the widget keeps what the visitor typed. Nothing here
logs or echoes message contents; logs carry event names and counts.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from limits import RateLimitItem
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from console.access import public
from console.gateway_limits import (
    PublicRateLimiter,
    open_storage,
    parse_rate,
)
from console.gateway_rasa import BotReply, BotUnavailableError, RasaClient
from console.gateway_redaction import redact_message
from console.gateway_signing import ChatSigner
from console.gateway_site import routes as site_routes
from console.gateway_text import clean_visitor_text
from leads.errors import InvalidInputError
from leads.notices import current_notice
from leads.settings import Settings, get_settings
from leads.vault import load_keyring

log = logging.getLogger(__name__)

STATE_ATTRIBUTE = "leadguard_gateway"
SIGNING_PURPOSE = "chat-gateway/v1"
LANGUAGES = ("en", "ms")
HUMAN_PAYLOAD = "/request_human"
ERASURE_PAYLOAD = "/request_erasure"
SESSION_START_RATE = "10/minute"
PREFLIGHT_MAX_AGE = "600"
# JSON may spell one character as a 6-character escape, plus the envelope.
BODY_BYTES_PER_CHAR = 6
BODY_OVERHEAD_BYTES = 2048

MESSAGES = {
    "origin": "This website is not allowed to use the chat.",
    "rate_limited": "You are sending messages too quickly. Please wait a "
    "moment and try again.",
    "content_type": "Send the message as JSON.",
    "too_large": "That message is too long. Please shorten it.",
    "invalid": "That message could not be read. Please try again.",
    "empty": "Please type a message first.",
    "session": "Your chat session has ended. Please start again.",
    "unavailable": "Our assistant is not responding right now. Your message "
    "was kept; please try again in a moment.",
}


class RequestRefusedError(InvalidInputError):
    """A request the gateway refuses, with the HTTP answer to give."""

    def __init__(self, code: str, status: int, retry_after: int = 0) -> None:
        super().__init__("request", code)
        self.code = code
        self.status = status
        self.retry_after = retry_after


@dataclass
class GatewayState:
    """What the gateway needs per application: built once, on first use."""

    settings: Settings
    signer: ChatSigner
    limiter: PublicRateLimiter
    rasa: RasaClient
    allowed_origins: frozenset[str]
    rate_per_address: RateLimitItem
    rate_per_session: RateLimitItem
    rate_session_start: RateLimitItem

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        rasa_transport: httpx.AsyncBaseTransport | None = None,
    ) -> GatewayState:
        """Build the gateway's state; fail at start-up on a bad setting.

        Raises:
            ConfigurationError: a rate, origin or storage URL is malformed.
            KeyringError: the key ring cannot be loaded.
        """
        storage_url = settings.console_rate_limit_storage
        return cls(
            settings=settings,
            signer=ChatSigner(load_keyring(settings).derive(SIGNING_PURPOSE)),
            limiter=PublicRateLimiter(open_storage(storage_url)),
            rasa=RasaClient(
                settings.rasa_url,
                settings.rasa_webhook_path,
                settings.chat_rasa_timeout_seconds,
                transport=rasa_transport,
            ),
            allowed_origins=allowed_origins(settings),
            rate_per_address=parse_rate(
                "chat_rate_per_address", settings.chat_rate_per_address
            ),
            rate_per_session=parse_rate(
                "chat_rate_per_session", settings.chat_rate_per_session
            ),
            rate_session_start=parse_rate("chat_session_start", SESSION_START_RATE),
        )


def origin_of(url: str) -> str:
    """Return the normalised origin (``scheme://host[:port]``) of a URL."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def allowed_origins(settings: Settings) -> frozenset[str]:
    """Return the origins allowed to call the gateway.

    The console's own origin (``LEADGUARD_PUBLIC_BASE_URL``, where the demo
    site lives) and every origin listed in ``LEADGUARD_ALLOWED_ORIGINS``.
    """
    listed = (origin_of(item) for item in settings.allowed_origins.split(","))
    origins = {item for item in listed if item}
    origins.add(origin_of(settings.public_base_url))
    return frozenset(origins)


def gateway_state(request: Request) -> GatewayState:
    """Return the application's gateway state, building it on first use."""
    state = getattr(request.app.state, STATE_ATTRIBUTE, None)
    if state is None:
        settings = getattr(request.app.state, "settings", None) or get_settings()
        state = GatewayState.from_settings(settings)
        setattr(request.app.state, STATE_ATTRIBUTE, state)
    return state  # type: ignore[no-any-return]


def _cors_headers(origin: str) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": origin,
        "Vary": "Origin",
        "Cache-Control": "no-store",
    }


def _refusal_response(refusal: RequestRefusedError, origin: str | None) -> JSONResponse:
    headers = _cors_headers(origin) if origin else {"Cache-Control": "no-store"}
    if refusal.retry_after:
        headers["Retry-After"] = str(refusal.retry_after)
    body: dict[str, Any] = {
        "error": refusal.code,
        "message": MESSAGES[refusal.code],
        "retry": refusal.code in {"rate_limited", "unavailable"},
    }
    if refusal.retry_after:
        body["retry_after"] = refusal.retry_after
    return JSONResponse(body, status_code=refusal.status, headers=headers)


def _client_address(request: Request) -> str:
    # Behind the TLS proxy, uvicorn's --proxy-headers (with the proxy's
    # address in --forwarded-allow-ips) puts the visitor's address here.
    return request.client.host if request.client else "unknown"


def _checked_origin(request: Request, state: GatewayState) -> str:
    origin = origin_of(request.headers.get("origin", ""))
    if origin not in state.allowed_origins:
        raise RequestRefusedError("origin", 403)
    return origin


async def _limit(
    state: GatewayState, rate: RateLimitItem, scope: str, key: str
) -> None:
    verdict = await state.limiter.hit(rate, scope, key)
    if not verdict.allowed:
        log.info("chat.rate_limited scope=%s", scope)
        raise RequestRefusedError("rate_limited", 429, verdict.retry_after)


async def _read_json(request: Request, state: GatewayState) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise RequestRefusedError("content_type", 415)
    limit = (
        state.settings.chat_max_message_chars * BODY_BYTES_PER_CHAR
        + BODY_OVERHEAD_BYTES
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RequestRefusedError("too_large", 413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestRefusedError("too_large", 413)
        chunks.append(chunk)
    try:
        body = json.loads(b"".join(chunks).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RequestRefusedError("invalid", 400) from exc
    if not isinstance(body, dict):
        raise RequestRefusedError("invalid", 400)
    return body


def _language(body: dict[str, Any]) -> str:
    language = body.get("language")
    return language if language in LANGUAGES else LANGUAGES[0]


def _replies_json(
    state: GatewayState, session_id: str, replies: list[BotReply]
) -> list[dict[str, Any]]:
    return [
        {
            "text": reply.text,
            "buttons": [
                {
                    "title": button.title,
                    "reply": state.signer.reply_token(session_id, button.payload),
                }
                for button in reply.buttons
            ],
        }
        for reply in replies
    ]


async def _ask_bot(
    state: GatewayState, session_id: str, text: str, language: str
) -> list[BotReply]:
    metadata = {"language": language, "channel": "widget"}
    try:
        return await state.rasa.send(session_id, text, metadata)
    except BotUnavailableError as exc:
        raise RequestRefusedError("unavailable", 503) from exc


def _preflight(request: Request) -> Response:
    state = gateway_state(request)
    origin = origin_of(request.headers.get("origin", ""))
    if origin not in state.allowed_origins:
        return Response(status_code=403, headers={"Vary": "Origin"})
    headers = _cors_headers(origin)
    headers.update(
        {
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        }
    )
    return Response(status_code=204, headers=headers)


@public("the website chat widget starts a chat before anyone signs in")
async def start_chat(request: Request) -> Response:
    """Issue a chat session and return the bot's greeting."""
    if request.method == "OPTIONS":
        return _preflight(request)
    state = gateway_state(request)
    origin: str | None = None
    try:
        origin = _checked_origin(request, state)
        address = _client_address(request)
        await _limit(state, state.rate_per_address, "address", address)
        await _limit(state, state.rate_session_start, "start", address)
        body = await _read_json(request, state)
        language = _language(body)
        session_id, token = state.signer.new_session()
        replies = await _ask_bot(
            state, session_id, state.settings.chat_greeting_payload, language
        )
    except RequestRefusedError as refusal:
        return _refusal_response(refusal, origin)
    notice = current_notice()
    base = state.settings.public_base_url.rstrip("/")
    log.info("chat.started replies=%s", len(replies))
    return JSONResponse(
        {
            "session": token,
            "messages": _replies_json(state, session_id, replies),
            "human": state.signer.reply_token(session_id, HUMAN_PAYLOAD),
            "erase": state.signer.reply_token(session_id, ERASURE_PAYLOAD),
            "notice_version": notice.version,
            "links": {
                "privacy": f"{base}/privacy/notice/v{notice.version}",
                "access": f"{base}/privacy/access",
                "erase": f"{base}/privacy/erase",
            },
        },
        headers=_cors_headers(origin),
    )


@public("the website chat widget sends visitors' messages to the bot")
async def send_message(request: Request) -> Response:
    """Forward one visitor message to the bot and return its replies."""
    if request.method == "OPTIONS":
        return _preflight(request)
    state = gateway_state(request)
    origin: str | None = None
    try:
        origin = _checked_origin(request, state)
        await _limit(state, state.rate_per_address, "address", _client_address(request))
        body = await _read_json(request, state)
        try:
            session_id = state.signer.session_id_of(body.get("session"))
        except InvalidInputError as exc:
            raise RequestRefusedError("session", 401) from exc
        await _limit(state, state.rate_per_session, "session", session_id)
        text, shown, redacted = _message_of(state, session_id, body)
        replies = await _ask_bot(state, session_id, text, _language(body))
    except RequestRefusedError as refusal:
        return _refusal_response(refusal, origin)
    log.info("chat.message replies=%s redacted=%s", len(replies), redacted)
    return JSONResponse(
        {
            "you": shown,
            "redacted": redacted > 0,
            "messages": _replies_json(state, session_id, replies),
        },
        headers=_cors_headers(origin),
    )


def _message_of(
    state: GatewayState, session_id: str, body: dict[str, Any]
) -> tuple[str, str | None, int]:
    """Return (text for Rasa, text to show as the visitor's, redactions)."""
    if body.get("reply") is not None:
        try:
            payload = state.signer.payload_of(session_id, body["reply"])
        except InvalidInputError as exc:
            raise RequestRefusedError("invalid", 400) from exc
        return payload, None, 0
    raw = body.get("text")
    if not isinstance(raw, str):
        raise RequestRefusedError("invalid", 400)
    try:
        text = clean_visitor_text(raw, state.settings.chat_max_message_chars)
    except InvalidInputError as exc:
        code = "empty" if exc.reason == "is empty" else "too_large"
        raise RequestRefusedError(code, 400 if code == "empty" else 413) from exc
    redacted, kinds = redact_message(text)
    return redacted, redacted, len(kinds)


routes = [
    Route("/chat/session", start_chat, methods=["POST", "OPTIONS"]),
    Route("/chat/message", send_message, methods=["POST", "OPTIONS"]),
    *site_routes,
]
