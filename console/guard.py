"""Enforcing every route's access rule, in one place, deny by default.

:func:`install_guards` walks the application's route table (mounts
included) when the application is built. A route without a rule stops the
start with a :class:`~leads.errors.ConfigurationError`; every other route's
ASGI app is wrapped in :class:`AccessGuard`, which runs before the endpoint:

* ``public`` routes pass straight through: no session is read, no CSRF
  check is made (they are cookieless by design);
* other routes get the visitor loaded from the session cookie, a CSRF check
  on every method other than GET, HEAD and OPTIONS, and, unless the rule is
  a sign-in step, a completed sign-in and one of the rule's roles.

Anonymous visitors are sent to the sign-in page (GET) or refused with 401;
signed-in visitors without the role get 403.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.access import RULE_ATTRIBUTE, AccessRule, rule_of
from console.context import console_context
from console.cookies import csrf_cookie_name, read_session_cookie, set_cookie
from console.csrf import (
    FIELD_NAME,
    HEADER_NAME,
    csrf_token,
    csrf_token_valid,
    new_csrf_secret,
)
from console.pages import render
from console.sessions import Visitor, load_visitor
from leads.errors import ConfigurationError

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_FORM_BYTES = 1024 * 1024
LOGIN_PATH = "/console/login"


@dataclass(frozen=True)
class RouteEntry:
    """One leaf of the route table: its full path, route and rule."""

    path: str
    route: BaseRoute
    rule: AccessRule | None
    methods: frozenset[str]


def iter_routes(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[RouteEntry]:
    """Yield every leaf route with its full path and declared rule."""
    for route in routes:
        if isinstance(route, Mount) and route.routes:
            yield from iter_routes(route.routes, prefix + route.path)
        elif isinstance(route, Mount):
            yield RouteEntry(
                prefix + route.path + "/{path:path}",
                route,
                rule_of(route.app),
                frozenset({"GET", "HEAD"}),
            )
        elif isinstance(route, Route):
            yield RouteEntry(
                prefix + route.path,
                route,
                rule_of(route.endpoint),
                frozenset(route.methods or {"GET", "HEAD"}),
            )
        elif isinstance(route, WebSocketRoute):
            yield RouteEntry(
                prefix + route.path, route, rule_of(route.endpoint), frozenset()
            )
        else:
            yield RouteEntry(prefix, route, None, frozenset())


def install_guards(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """Return guarded copies of ``routes``; refuse a route without a rule.

    The given route objects are left as they are (route lists of modules
    are shared by every application built in a process); mounts are
    rebuilt around guarded copies of their routes.

    Raises:
        ConfigurationError: a route declares no access rule, or a websocket
            route is not public.
    """
    return _guarded(routes, "")


def _guarded(routes: Sequence[BaseRoute], prefix: str) -> list[BaseRoute]:
    guarded: list[BaseRoute] = []
    for route in routes:
        if isinstance(route, Mount) and route.routes:
            children = _guarded(route.routes, prefix + route.path)
            guarded.append(Mount(route.path, routes=children, name=route.name))
            continue
        entry = next(iter_routes([route], prefix))
        if entry.rule is None:
            raise ConfigurationError(
                f"route {entry.path} has no access rule; add @requires or @public"
            )
        if isinstance(route, WebSocketRoute):
            if not entry.rule.public:
                raise ConfigurationError(f"websocket route {entry.path} must be public")
            guarded.append(route)
            continue
        if not isinstance(route, Route | Mount):
            raise ConfigurationError(f"route {entry.path}: unsupported route type")
        clone = copy.copy(route)
        clone.app = AccessGuard(route.app, entry.rule)
        guarded.append(clone)
    return guarded


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class AccessGuard:
    """ASGI wrapper that enforces one route's :class:`AccessRule`."""

    def __init__(self, app: ASGIApp, rule: AccessRule) -> None:
        self.app = app
        self.rule = rule
        setattr(self, RULE_ATTRIBUTE, rule)  # a guarded mount keeps its rule

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the rule, then call the route (or answer with a refusal)."""
        if scope["type"] != "http" or not self.rule.uses_session:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        context = console_context(request)
        settings = context.settings
        token = read_session_cookie(request, settings)
        visitor = await run_in_threadpool(self._load_visitor, request, token)
        secret = request.cookies.get(csrf_cookie_name(settings), "")
        new_secret = "" if secret else new_csrf_secret()
        request.state.visitor = visitor
        request.state.session_token = token
        request.state.csrf_token = csrf_token(
            context.keyring, secret or new_secret, token
        )

        refusal = self._refusal(request, visitor)
        if refusal is None and request.method not in SAFE_METHODS:
            body = await _read_body(receive)
            if body is None:
                refusal = Response("request too large", status_code=413)
            else:
                receive = _replay(body)
                presented = await self._presented_token(request, body)
                if not csrf_token_valid(context.keyring, secret, token, presented):
                    log.info("console.csrf_refused path=%s", request.url.path)
                    refusal = render(
                        request,
                        "error.html",
                        {"title": "Form expired", "message": _CSRF_MESSAGE},
                        status_code=403,
                    )
        if refusal is not None:
            if new_secret:
                set_cookie(refusal, settings, csrf_cookie_name(settings), new_secret)
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, _with_csrf_cookie(send, request, new_secret))

    @staticmethod
    def _load_visitor(request: Request, token: str) -> Visitor | None:
        if not token:
            return None
        context = console_context(request)
        with context.transaction() as session:
            return load_visitor(session, context.keyring, context.settings, token)

    def _refusal(self, request: Request, visitor: Visitor | None) -> Response | None:
        if self.rule.public:
            return None
        if visitor is None or not visitor.signed_in:
            if request.method in SAFE_METHODS:
                if request.url.path in {"/console", "/console/"}:
                    return RedirectResponse(LOGIN_PATH, 303)
                target = quote(request.url.path, safe="/")
                return RedirectResponse(f"{LOGIN_PATH}?next={target}", 303)
            return render(
                request,
                "error.html",
                {"title": "Signed out", "message": "Sign in again."},
                status_code=401,
            )
        if visitor.role not in self.rule.roles:
            log.info(
                "console.forbidden user=%s role=%s path=%s",
                visitor.user_id,
                visitor.role.value,
                request.url.path,
            )
            return render(
                request,
                "error.html",
                {"title": "Not allowed", "message": _FORBIDDEN_MESSAGE},
                status_code=403,
            )
        return None

    @staticmethod
    async def _presented_token(request: Request, body: bytes) -> str:
        header = request.headers.get(HEADER_NAME, "")
        if header:
            return header
        replayed = Request(request.scope, _replay(body))
        try:
            form = await replayed.form()
        except (HTTPException, ValueError):
            return ""  # a malformed body carries no token
        value = form.get(FIELD_NAME, "")
        await form.close()
        return value if isinstance(value, str) else ""


_CSRF_MESSAGE = (
    "This form was open too long or came from another site. Go back, reload "
    "the page and try again."
)
_FORBIDDEN_MESSAGE = "Your role does not give access to this page."


def _with_csrf_cookie(send: Send, request: Request, new_secret: str) -> Send:
    if not new_secret:
        return send
    settings = console_context(request).settings
    probe = Response()
    set_cookie(probe, settings, csrf_cookie_name(settings), new_secret)
    cookie_headers = [
        (name, value) for name, value in probe.raw_headers if name == b"set-cookie"
    ]

    async def send_with_cookie(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = dict(message)
            message["headers"] = list(message.get("headers", [])) + cookie_headers
        await send(message)

    return send_with_cookie
