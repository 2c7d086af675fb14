"""Security headers, generic error pages, and no personal data in logs."""

from __future__ import annotations

import logging

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from console import queue
from console.access import Role
from console.headers import SecurityHeadersMiddleware
from tests.console.conftest import TestClient, sign_in


def test_console_pages_carry_the_security_headers(client: TestClient) -> None:
    response = client.get("/console/login")
    headers = response.headers
    policy = headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    assert headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in headers  # plain HTTP here


def test_pages_have_no_inline_script_or_style(client: TestClient) -> None:
    body = client.get("/console/login").text
    assert "<script" not in body and "<style" not in body and "style=" not in body


def test_a_route_may_bring_its_own_policy() -> None:
    async def widget(request: object) -> PlainTextResponse:
        return PlainTextResponse(
            "/* widget */",
            headers={
                "content-security-policy": "default-src 'none'",
                "cache-control": "public, max-age=300",
                "access-control-allow-origin": "*",
            },
        )

    async def page(request: object) -> PlainTextResponse:
        return PlainTextResponse("page")

    app = Starlette(routes=[Route("/widget.js", widget), Route("/page", page)])
    wrapped = SecurityHeadersMiddleware(app, tls=True)
    client = TestClient(wrapped)  # type: ignore[arg-type]
    own = client.get("/widget.js").headers
    assert own["content-security-policy"] == "default-src 'none'"
    assert own["cache-control"] == "public, max-age=300"
    assert own["access-control-allow-origin"] == "*"
    assert "x-frame-options" not in own
    assert own["x-content-type-options"] == "nosniff"
    assert own["strict-transport-security"].startswith("max-age=")
    default = client.get("/page").headers
    assert "frame-ancestors 'none'" in default["content-security-policy"]


def test_errors_show_a_reference_and_log_no_personal_data(
    app: Starlette,
    staff: dict,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("lookup failed for ana@customer.example +60123456789")

    client = TestClient(app, raise_server_exceptions=False)
    sign_in(client, staff[Role.SALES])
    monkeypatch.setattr(queue, "queue_leads", broken)
    with caplog.at_level(logging.INFO):
        response = client.get("/console/queue")
    assert response.status_code == 500
    assert "Reference:" in response.text
    assert "ana@customer.example" not in response.text
    assert response.headers["content-security-policy"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "console.unhandled_error" in logged and "RuntimeError" in logged
    assert "ana@customer.example" not in logged and "60123456789" not in logged
    assert "ana@customer.example" not in caplog.text


def test_unknown_page_is_generic(client: TestClient) -> None:
    response = client.get("/console/no-such-page")
    assert response.status_code == 404
    assert "Not found" in response.text
    assert response.headers["cache-control"] == "no-store"
