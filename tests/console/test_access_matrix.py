"""Every role, and anonymous, against every route of the application.

The matrix is built from the application's own route table, so a route
added later is covered without editing this file, and a route without an
access rule stops the application from starting.
"""

from __future__ import annotations

import re
import types
import uuid

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import console.app as console_app
from console.access import Role
from console.app import create_app, route_table
from console.guard import AccessGuard
from leads.errors import ConfigurationError
from leads.settings import Settings
from leads.vault import Vault
from tests.console.conftest import (
    StaffMember,
    TestClient,
    csrf_from,
    make_staff,
    sign_in,
)

PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")
ANONYMOUS = "anonymous"


def concrete_path(template: str) -> str:
    """Fill a route template's parameters with plausible values."""

    def value(match: re.Match[str]) -> str:
        kind = match.group(2)
        if kind == "uuid":
            return str(uuid.uuid4())
        if kind == "int":
            return "1"
        if kind == "path":
            return "console.css"
        return "x" * 43

    return PARAM.sub(value, template)


def test_every_route_has_a_rule_and_a_guard(app: Starlette) -> None:
    entries = route_table(app)
    assert len(entries) > 20
    for entry in entries:
        assert entry.rule is not None, entry.path
        if not entry.rule.public or entry.rule.sign_in:
            assert isinstance(entry.route.app, AccessGuard), entry.path  # type: ignore[attr-defined]


def test_a_route_without_a_rule_stops_the_start(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def forgotten(request: object) -> PlainTextResponse:
        return PlainTextResponse("secret")

    own_routes = console_app.console_routes
    monkeypatch.setattr(
        console_app,
        "console_routes",
        lambda: [*own_routes(), Route("/forgotten", forgotten)],
    )
    with pytest.raises(ConfigurationError, match="/console/forgotten"):
        create_app(settings)


def test_a_contributed_route_without_a_rule_stops_the_start(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def forgotten(request: object) -> PlainTextResponse:
        return PlainTextResponse("secret")

    module = types.SimpleNamespace(
        routes=[Route("/contributed", forgotten, methods=["POST"])]
    )
    monkeypatch.setattr(console_app, "contributed_modules", lambda: [module])
    with pytest.raises(ConfigurationError, match="/contributed"):
        create_app(settings)


def _clients(
    app: Starlette, console_vault: Vault, settings: Settings
) -> dict[str, tuple[TestClient, str]]:
    clients: dict[str, tuple[TestClient, str]] = {}
    anonymous = TestClient(app)
    clients[ANONYMOUS] = (anonymous, csrf_from(anonymous.get("/console/login").text))
    for role in Role:
        member: StaffMember = make_staff(
            console_vault, settings, role, f"matrix-{role.value}@team.example"
        )
        client = TestClient(app)
        sign_in(client, member)
        clients[role.value] = (client, csrf_from(client.get("/console/login").text))
    return clients


def test_role_by_route_matrix(
    app: Starlette, console_vault: Vault, settings: Settings
) -> None:
    clients = _clients(app, console_vault, settings)
    checked = 0
    # Signing out ends the clients' sessions, so it goes last.
    entries = sorted(route_table(app), key=lambda e: e.path.endswith("/logout"))
    for entry in entries:
        assert entry.rule is not None
        methods = sorted(entry.methods - {"HEAD"}) or ["GET"]
        for method in methods:
            path = concrete_path(entry.path)
            for who, (client, token) in clients.items():
                data = {"csrf_token": token} if method != "GET" else None
                response = client.request(
                    method, path, data=data, follow_redirects=False
                )
                status = response.status_code
                location = response.headers.get("location", "")
                label = f"{who} {method} {entry.path} -> {status}"
                checked += 1
                if entry.rule.public:
                    assert status != 401, label
                    assert not location.startswith("/console/login?"), label
                    continue
                if who == ANONYMOUS:
                    expected = 303 if method == "GET" else 401
                    assert status == expected, label
                    if method == "GET":
                        assert location.startswith("/console/login"), label
                elif Role(who) in entry.rule.roles:
                    assert status not in {401, 403}, label
                    assert not location.startswith("/console/login"), label
                else:
                    assert status == 403, label
    assert checked >= 5 * 20
