"""The web application: sales console plus the routes of other packages.

``create_app`` builds one Starlette application:

* the console itself under ``/console/`` (sign-in, queue, leads, export,
  audit trail, users) and its stylesheet under ``/console/static/``;
* the route lists of ``console.gateway`` (chat gateway, widget, demo site),
  ``console.selfservice`` (privacy pages), ``console.observability``
  (metrics, health), ``console.privacy_routes`` (the privacy officer's
  requests, under ``/console/privacy/``) and ``nurture.web``
  (unsubscribe), when those modules
  exist. Each exports ``routes: list[BaseRoute]``; a module may also export
  ``middleware: list[Middleware]``, which wraps the whole application
  (outside the security headers and error pages).

``app.state.settings`` holds the settings and ``app.state.console`` the
console's :class:`~console.context.ConsoleContext`.

Every route must declare an access rule (:mod:`console.access`); the
application refuses to start otherwise, and :mod:`console.guard` enforces
the rules. Run it with
``uvicorn --factory console.app:create_app``.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from console import admin_views, audit_views, lead_views, signin_views
from console.access import public
from console.context import STATIC_DIR, ConsoleContext
from console.cookies import served_over_tls
from console.errorpages import ErrorPageMiddleware, http_exception_page
from console.guard import RouteEntry, install_guards, iter_routes
from console.headers import SecurityHeadersMiddleware
from leads.settings import Settings, get_settings

log = logging.getLogger(__name__)

# Modules of other packages that contribute routes, when installed.
ROUTE_MODULES = (
    "console.gateway",
    "console.selfservice",
    "console.observability",
    "console.privacy_routes",
    "nurture.web",
)


def console_routes() -> list[BaseRoute]:
    """The console's own routes, relative to ``/console``."""
    stylesheet = public("the console's stylesheet and images; no data")(
        StaticFiles(directory=STATIC_DIR)
    )
    return [
        *signin_views.routes,
        *lead_views.routes,
        *audit_views.routes,
        *admin_views.routes,
        Mount("/static", app=stylesheet, name="console-static"),
    ]


def contributed_modules() -> list[ModuleType]:
    """The other packages' web modules that are installed."""
    modules = []
    for name in ROUTE_MODULES:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            log.info("console.routes_skipped module=%s", name)
    return modules


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the application.

    Raises:
        ConfigurationError: a route has no access rule.
        KeyringError: the key ring is missing or does not match the database.
    """
    settings = settings or get_settings()
    context = ConsoleContext.build(settings)
    modules = contributed_modules()
    routes: list[BaseRoute] = []
    outer_middleware: list[Middleware] = []
    for module in modules:
        routes.extend(module.routes)
        outer_middleware.extend(getattr(module, "middleware", []))
    # After the contributed routes: the mount claims every /console/ path.
    routes.append(Mount("/console", routes=console_routes()))
    routes = install_guards(routes)
    entries = list(iter_routes(routes))
    environment = context.templates.env

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)  # noqa: S101 - registered for it
        return http_exception_page(environment, exc)

    app = Starlette(
        routes=routes,
        middleware=[
            *outer_middleware,
            Middleware(SecurityHeadersMiddleware, tls=served_over_tls(settings)),
            Middleware(ErrorPageMiddleware, environment=environment),
        ],
        exception_handlers={HTTPException: on_http_error},
    )
    app.state.console = context
    app.state.settings = settings
    app.state.route_entries = entries
    log.info("console.started routes=%s", len(entries))
    return app


def route_table(app: Starlette) -> list[RouteEntry]:
    """The application's routes with their rules (for tests and docs)."""
    entries: list[RouteEntry] = app.state.route_entries
    return entries
