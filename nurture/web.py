"""Unsubscribe endpoints, mounted by the console application.

``POST /unsubscribe/{token}`` with ``List-Unsubscribe=One-Click`` (URL-encoded
or multipart, RFC 8058) unsubscribes at once and answers 200 with an empty
body: no redirect, no cookie, no page. ``GET /unsubscribe/{token}`` only
shows a confirmation page whose button posts the same form, so a link
scanner that follows every URL in an email unsubscribes nobody.

The token is opaque (see :mod:`nurture.tokens`); the pages name no person.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from console.access import public
from leads.database import session_factory
from leads.keyring import KeyRing
from leads.settings import Settings, get_settings
from leads.vault import load_keyring
from nurture.errors import UnsubscribeTokenError
from nurture.tokens import MAX_TOKEN_CHARS
from nurture.unsubscribe import unsubscribe_by_token

__all__ = ["UNSUBSCRIBE_PATH", "routes", "unsubscribe_url"]

log = logging.getLogger(__name__)

UNSUBSCRIBE_PATH = "/unsubscribe/{token}"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
ONE_CLICK_FIELD = "List-Unsubscribe"
ONE_CLICK_VALUE = "One-Click"
MAX_BODY_BYTES = 4096
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
_TITLES = {
    "confirm": "Unsubscribe from follow-up emails",
    "done": "You are unsubscribed",
    "invalid": "Link not valid",
}


def unsubscribe_url(settings: Settings, token: str) -> str:
    """Return the public https URL of an unsubscribe token."""
    base = settings.public_base_url.rstrip("/")
    return base + UNSUBSCRIBE_PATH.format(token=token)


@functools.cache
def _templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True),
        auto_reload=False,
    )


@functools.cache
def _stores(
    database_url: str, settings: Settings
) -> tuple[KeyRing, sessionmaker[Session]]:
    return load_keyring(settings), session_factory(settings)


def _settings_of(request: Request) -> Settings:
    settings = getattr(request.app.state, "settings", None)
    return settings if isinstance(settings, Settings) else get_settings()


def _page(page: str, token: str, status_code: int = 200) -> HTMLResponse:
    action = UNSUBSCRIBE_PATH.format(token=token) if page == "confirm" else ""
    html = (
        _templates()
        .get_template("unsubscribe.html")
        .render(page=page, title=_TITLES[page], action=action)
    )
    return HTMLResponse(html, status_code=status_code, headers=_HEADERS)


def _token_shape_ok(token: str) -> bool:
    return 0 < len(token) <= MAX_TOKEN_CHARS and token.isascii()


@public("the confirmation page of an unsubscribe link; the token authorises")
async def unsubscribe_page(request: Request) -> Response:
    """Show the confirmation page; never unsubscribes by itself."""
    token = str(request.path_params["token"])
    if not _token_shape_ok(token):
        return _page("invalid", "", 404)
    return _page("confirm", token)


@public("RFC 8058 one-click unsubscribe from mail clients; the token authorises")
async def unsubscribe_one_click(request: Request) -> Response:
    """Unsubscribe on ``List-Unsubscribe=One-Click``; 200 with an empty body.

    The confirmation page's button posts the same field plus ``from_page``
    and gets the "done" page instead of an empty body.
    """
    token = str(request.path_params["token"])
    length = request.headers.get("content-length", "0")
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        return Response(status_code=413, headers=_HEADERS)
    try:
        form = await request.form(max_files=0, max_fields=8)
    except (HTTPException, MultiPartException, ValueError):
        return Response(status_code=400, headers=_HEADERS)
    from_page = form.get("from_page") == "1"
    if form.get(ONE_CLICK_FIELD) != ONE_CLICK_VALUE:
        return Response(status_code=400, headers=_HEADERS)
    settings = _settings_of(request)
    keyring, sessions = _stores(settings.database_url, settings)
    try:
        await run_in_threadpool(unsubscribe_by_token, sessions, keyring, token)
    except UnsubscribeTokenError:
        log.info("nurture.unsubscribe.invalid_token")
        if from_page:
            return _page("invalid", "", 404)
        return Response(status_code=404, headers=_HEADERS)
    if from_page:
        return _page("done", "")
    return Response(status_code=200, headers=_HEADERS)


routes: list[BaseRoute] = [
    Route(UNSUBSCRIBE_PATH, unsubscribe_page, methods=["GET"]),
    Route(UNSUBSCRIBE_PATH, unsubscribe_one_click, methods=["POST"]),
]
