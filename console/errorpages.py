"""Generic error pages with a reference id; details only in the log.

The log line names the reference, the exception type and the code
locations of the traceback, never the exception's message or local
values, so personal data that reached an error message stays out of the
log as well as out of the page.
"""

from __future__ import annotations

import logging
import secrets
import traceback

from jinja2 import Environment
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

STATUS_TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    413: "Too large",
    500: "Something went wrong",
}


def new_reference() -> str:
    """Return a short random reference to quote to support."""
    return secrets.token_hex(5)


def traceback_locations(exc: BaseException) -> str:
    """Return where an exception passed through, without its message."""
    frames = traceback.extract_tb(exc.__traceback__)
    return " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in frames)


def error_page(
    environment: Environment, status: int, reference: str | None = None
) -> HTMLResponse:
    """Render the generic error page for ``status``."""
    template = environment.get_template("error.html")
    title = STATUS_TITLES.get(status, "Error")
    message = (
        "The error was logged. Quote the reference below if you contact support."
        if status >= 500
        else "The page cannot be shown."
    )
    body = template.render(
        title=title, message=message, reference=reference, visitor=None
    )
    return HTMLResponse(body, status_code=status)


def http_exception_page(environment: Environment, exc: HTTPException) -> HTMLResponse:
    """Render a generic page for an expected HTTP error (404, 405...)."""
    response = error_page(environment, exc.status_code)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


class ErrorPageMiddleware:
    """Turns an unhandled exception into the generic page (status 500)."""

    def __init__(self, app: ASGIApp, *, environment: Environment) -> None:
        self.app = app
        self.environment = environment

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Call the application; answer 500 with a reference if it fails."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            reference = new_reference()
            log.error(
                "console.unhandled_error ref=%s type=%s at=%s",
                reference,
                type(exc).__name__,
                traceback_locations(exc),
            )
            if started:
                return  # the response is already under way; nothing to add
            response = error_page(self.environment, 500, reference)
            await response(scope, receive, send)
