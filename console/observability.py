"""Health, readiness and metrics endpoints, and the request-id middleware.

``routes`` is included by :func:`console.app.create_app`; ``middleware``
wraps the whole application.

- ``GET /healthz``: liveness. 200 while the process serves requests; it
  touches nothing else, so a database outage does not get the console
  restarted in a loop.
- ``GET /readyz``: readiness. 200 when the database answers and the key ring
  matches it; 503 otherwise. The body names each check and says ``ok`` or
  ``fail``; it never carries an error text.
- ``GET /metrics``: Prometheus text format. Served to a direct loopback
  client (no ``X-Forwarded-For``, so not relayed by the proxy), or to anyone
  presenting ``Authorization: Bearer <LEADGUARD_METRICS_TOKEN>``; otherwise
  404, so its existence is not advertised. The TLS proxy of the compose stack
  does not route it either.

Every response carries ``X-Request-ID``: the caller's, when it is a plain
token of 8 to 64 letters, digits, ``-`` or ``_``, otherwise a fresh one. The
id is in every log line written while the request runs (see
:mod:`leads.logfilters`). The access log line names the route *template*,
never the path, which may hold a token, and never the client address.

The same middleware records the HTTP metrics and, for ``POST
/chat/message``, the chat-turn counter and latency histogram (a chat turn
is one visitor message relayed by the gateway; the time includes the bot).
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
import re
import time
import uuid

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.registry import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.access import public
from leads.database import engine_for
from leads.errors import LeadguardError
from leads.logconfig import configure_logging
from leads.logfilters import request_id
from leads.metrics import (
    multiprocess_registry,
    record_chat_turn,
    record_http_request,
    scrape_root,
)
from leads.metrics_database import DatabaseCollector
from leads.settings import Settings, get_settings

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
UNMATCHED_ROUTE = "unmatched"
# One visitor message relayed to the bot by the gateway is one chat turn.
CHAT_TURN_ROUTE = "/chat/message"


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def metrics_allowed(request: Request, settings: Settings) -> bool:
    """Whether a request may read the metrics.

    A bearer token, when configured and presented, is compared in constant
    time. Without it only a direct loopback client is allowed: a request
    relayed by a proxy (it carries ``X-Forwarded-For``) is not direct.
    """
    token = settings.metrics_token
    header = request.headers.get("authorization", "")
    if token is not None and header.startswith("Bearer "):
        offered = header.removeprefix("Bearer ").encode()
        return hmac.compare_digest(offered, token.get_secret_value().encode())
    client = request.client.host if request.client else None
    relayed = "x-forwarded-for" in request.headers or "forwarded" in request.headers
    return _is_loopback(client) and not relayed


@functools.cache
def _process_registry() -> CollectorRegistry:
    """Counters and histograms: every process on this host, or this one."""
    root = scrape_root()
    return multiprocess_registry(root) if root else REGISTRY


@functools.cache
def _database_registry(database_url: str) -> CollectorRegistry:
    """Gauges read from the database (one registry per database)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(engine_for(database_url)))
    return registry


def render_metrics(database_url: str) -> bytes:
    """Return the exposition text of the process and database metrics."""
    return generate_latest(_process_registry()) + generate_latest(
        _database_registry(database_url)
    )


@public("liveness probe for the process supervisor; returns no data")
async def healthz(request: Request) -> Response:
    """Answer 200 while the process serves requests."""
    return JSONResponse({"status": "ok"})


def _readiness_checks(settings: Settings) -> dict[str, bool]:
    from leads.vault import Vault

    checks: dict[str, bool] = {}
    try:
        with engine_for(settings.database_url).connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = True
    except SQLAlchemyError:
        checks["database"] = False
    try:
        Vault.from_settings(settings)
        checks["keyring"] = True
    except (LeadguardError, SQLAlchemyError):
        checks["keyring"] = False
    return checks


@public("readiness probe for the proxy and orchestrator; check names only")
async def readyz(request: Request) -> Response:
    """Answer 200 when the database and key ring are usable, else 503."""
    from starlette.concurrency import run_in_threadpool

    settings: Settings = getattr(request.app.state, "settings", None) or (
        get_settings()
    )
    checks = await run_in_threadpool(_readiness_checks, settings)
    ready = all(checks.values())
    body = {
        "status": "ready" if ready else "not ready",
        "checks": {name: "ok" if ok else "fail" for name, ok in checks.items()},
    }
    return JSONResponse(body, status_code=200 if ready else 503)


@public("Prometheus scrape; allowed from loopback or with the metrics token")
async def metrics(request: Request) -> Response:
    """Serve the metrics of every leadguard process on this host."""
    from starlette.concurrency import run_in_threadpool

    settings: Settings = getattr(request.app.state, "settings", None) or (
        get_settings()
    )
    if not metrics_allowed(request, settings):
        return PlainTextResponse("Not Found", status_code=404)
    payload = await run_in_threadpool(render_metrics, settings.database_url)
    return Response(payload, media_type=CONTENT_TYPE_LATEST)


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]


def _chat_outcome(status: int) -> str:
    if status == 200:
        return "ok"
    if status == 429:
        return "rate_limited"
    return "error" if status >= 500 else "rejected"


def _route_template(scope: Scope) -> str:
    app = scope.get("app")
    router = getattr(app, "router", None)
    for route in getattr(router, "routes", ()):
        match, _child = route.matches(scope)
        if match == Match.FULL:
            return str(getattr(route, "path", UNMATCHED_ROUTE))
    return UNMATCHED_ROUTE


class RequestIdMiddleware:
    """Give each HTTP request an id, log one access line, record metrics.

    The id is set in :data:`leads.logfilters.request_id` for the request's
    duration and returned in ``X-Request-ID``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # The console's only start-up hook of ours: give the process the
        # project's log format and filters (idempotent; see leads.logconfig).
        configure_logging()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap one ASGI call; other scope types pass through untouched."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER.encode())
        candidate = offered.decode("latin-1") if offered else ""
        rid = candidate if _VALID_REQUEST_ID.fullmatch(candidate) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != REQUEST_ID_HEADER.encode()
                ]
                headers.append((REQUEST_ID_HEADER.encode(), rid.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            record_http_request(route, status, elapsed)
            if route == CHAT_TURN_ROUTE:
                record_chat_turn(elapsed, _chat_outcome(status))
            log.info(
                "http.request method=%s route=%s status=%s ms=%.1f",
                scope.get("method", "-"),
                route,
                status,
                elapsed * 1000,
            )
            request_id.reset(token)


middleware = [Middleware(RequestIdMiddleware)]
