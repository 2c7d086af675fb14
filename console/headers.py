"""Security headers on every response of the application.

The middleware fills in headers a response does not set itself:

* ``Content-Security-Policy``: only this origin's scripts, styles, images
  and forms, no inline script or style, ``frame-ancestors 'none'``; and, with
  it, ``X-Frame-Options: DENY`` for old browsers;
* ``Cache-Control: no-store`` (console pages show personal data; routes that
  serve cacheable assets set their own);
* ``Referrer-Policy: no-referrer``, ``Cross-Origin-Opener-Policy``,
  ``Permissions-Policy``.

Opting out, for routes served to other origins (the chat widget script,
the gateway): a response that carries its own ``Content-Security-Policy``,
``Cache-Control`` or ``Referrer-Policy`` keeps it (and gets no
``X-Frame-Options`` when it brings its own CSP). CORS headers are never
touched. ``X-Content-Type-Options: nosniff`` is always set, and
``Strict-Transport-Security`` whenever the console is served over TLS.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
HSTS = "max-age=31536000; includeSubDomains"
DEFAULTS = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


class SecurityHeadersMiddleware:
    """Adds the security headers described in this module's docstring."""

    def __init__(self, app: ASGIApp, *, tls: bool) -> None:
        self.app = app
        self.tls = tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add headers to the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                self.apply(headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def apply(self, headers: MutableHeaders) -> None:
        """Fill in the missing security headers."""
        if "content-security-policy" not in headers:
            headers["content-security-policy"] = CONTENT_SECURITY_POLICY
            headers["x-frame-options"] = "DENY"
        for name, value in DEFAULTS.items():
            if name not in headers:
                headers[name] = value
        headers["x-content-type-options"] = "nosniff"
        if self.tls:
            headers["strict-transport-security"] = HSTS
