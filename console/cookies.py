"""The console's cookies: the session id and the CSRF secret.

Both are HttpOnly and SameSite=Strict, path ``/``. When the console is
served over TLS (``LEADGUARD_PUBLIC_BASE_URL`` starts with ``https://``)
they are also Secure and carry the ``__Host-`` prefix, which forbids a
Domain attribute and so keeps sibling subdomains from planting them.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from leads.settings import Settings


def served_over_tls(settings: Settings) -> bool:
    """Whether the public address of the console is HTTPS."""
    return settings.public_base_url.lower().startswith("https://")


def _name(settings: Settings, base: str) -> str:
    return f"__Host-{base}" if served_over_tls(settings) else base


def session_cookie_name(settings: Settings) -> str:
    """The name of the session cookie."""
    return _name(settings, "lg_session")


def csrf_cookie_name(settings: Settings) -> str:
    """The name of the CSRF secret cookie."""
    return _name(settings, "lg_csrf")


def read_session_cookie(request: Request, settings: Settings) -> str:
    """Return the session id the browser sent, or an empty string."""
    return request.cookies.get(session_cookie_name(settings), "")


def set_cookie(
    response: Response,
    settings: Settings,
    name: str,
    value: str,
    max_age: int | None = None,
) -> None:
    """Set a console cookie with the console's attributes."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=served_over_tls(settings),
        httponly=True,
        samesite="strict",
    )


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    """Put a new session id in the browser (a session cookie, no max-age)."""
    set_cookie(response, settings, session_cookie_name(settings), token)


def clear_session_cookie(response: Response, settings: Settings) -> None:
    """Remove the session cookie from the browser."""
    response.delete_cookie(
        session_cookie_name(settings),
        path="/",
        secure=served_over_tls(settings),
        httponly=True,
        samesite="strict",
    )
