"""Health, readiness, metrics access and request ids on the real app."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from starlette.requests import Request

from console.app import create_app
from console.observability import metrics_allowed
from leads.logfilters import RequestIdFilter
from leads.settings import Settings, load_settings

with warnings.catch_warnings():
    # starlette's test client prefers httpx2; httpx works the same here.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def token_settings(settings: Settings) -> Settings:
    return load_settings(
        var_dir=settings.var_dir,
        keyring_file=settings.keyring_file,
        database_url=settings.database_url,
        metrics_token=TOKEN,
    )


@pytest.fixture
def client(token_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(token_settings)) as test_client:
        yield test_client


def test_liveness_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "keyring": "ok"}


def test_readiness_fails_with_a_wrong_key_ring(
    token_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from leads.keyring import new_keyring_document, write_keyring_file

    app = create_app(token_settings)
    other = tmp_path_factory.mktemp("other") / "keyring.json"
    write_keyring_file(other, new_keyring_document())
    app.state.settings = load_settings(
        var_dir=token_settings.var_dir,
        keyring_file=other,
        database_url=token_settings.database_url,
    )
    with TestClient(app) as test_client:
        response = test_client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "keyring": "fail"}
    assert "match" not in response.text


def test_metrics_need_the_token_from_outside_loopback(client: TestClient) -> None:
    client.get("/healthz")
    assert client.get("/metrics").status_code == 404
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 404
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert "leadguard_leads{" in response.text
    assert "leadguard_database_up 1.0" in response.text
    assert 'leadguard_http_requests_total{route="/healthz",status="2xx"}' in (
        response.text
    )


def make_request(host: str, headers: dict[str, str] | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request(
        {"type": "http", "client": (host, 5555), "headers": raw, "method": "GET"}
    )


def test_loopback_is_allowed_unless_relayed(settings: Settings) -> None:
    assert metrics_allowed(make_request("127.0.0.1"), settings)
    assert metrics_allowed(make_request("::1"), settings)
    assert not metrics_allowed(make_request("172.30.0.10"), settings)
    relayed = make_request("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"})
    assert not metrics_allowed(relayed, settings)


def test_request_id_is_echoed_or_replaced(client: TestClient) -> None:
    kept = client.get("/healthz", headers={"X-Request-ID": "abc12345-def"})
    assert kept.headers["x-request-id"] == "abc12345-def"
    injected = client.get("/healthz", headers={"X-Request-ID": "bad id\nforged=1"})
    assert injected.headers["x-request-id"] != "bad id\nforged=1"
    assert len(injected.headers["x-request-id"]) == 32


def test_access_log_names_the_route_template_not_the_path(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO, logger="console.observability"):
        client.get(
            "/privacy/link/secret-token-value?email=jane@example.com",
            headers={"X-Request-ID": "req-0000-1111"},
        )
    lines = [r for r in caplog.records if r.getMessage().startswith("http.request")]
    assert lines
    message = lines[-1].getMessage()
    assert "secret-token-value" not in message
    assert "jane@example.com" not in message
    assert "route=" in message
    assert lines[-1].request_id == "req-0000-1111"  # type: ignore[attr-defined]


def test_a_refused_chat_turn_is_counted(client: TestClient) -> None:
    def rejected() -> float:
        text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
        for line in text.splitlines():
            if line.startswith('leadguard_chat_turns_total{outcome="rejected"}'):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = rejected()
    response = client.post(
        "/chat/message",
        json={"session": "x", "text": "hello"},
        headers={"Origin": "https://not-allowed.example"},
    )
    assert response.status_code == 403
    assert rejected() == before + 1
