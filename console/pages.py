"""Rendering console pages with the values every template needs."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from console.context import console_context
from console.sessions import Visitor


def current_visitor(request: Request) -> Visitor | None:
    """The visitor the access guard loaded for this request (or None)."""
    visitor: Visitor | None = getattr(request.state, "visitor", None)
    return visitor


def signed_in_visitor(request: Request) -> Visitor:
    """The signed-in visitor of a route guarded by ``requires``.

    Raises:
        RuntimeError: called on a route the guard let through anonymously
            (a programming error, never a user's).
    """
    visitor = current_visitor(request)
    if visitor is None or not visitor.signed_in:
        raise RuntimeError("route needs a signed-in visitor; check its access rule")
    return visitor


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """Render a console template with the visitor and the CSRF token."""
    values: dict[str, Any] = {
        "visitor": current_visitor(request),
        "csrf_token": getattr(request.state, "csrf_token", ""),
    }
    values.update(context or {})
    templates = console_context(request).templates
    return templates.TemplateResponse(
        request, template, values, status_code=status_code
    )
