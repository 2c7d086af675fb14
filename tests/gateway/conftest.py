"""Fixtures of the gateway tests: settings, a fake Rasa, an application."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from console.app import create_app
from console.gateway import STATE_ATTRIBUTE, GatewayState
from leads.keyring import new_keyring_document, write_keyring_file
from leads.migrate import upgrade
from leads.settings import Settings, load_settings
from tests.gateway.fake_rasa import FakeRasa

SITE = "https://www.acme.example"


def gateway_settings(var_dir: Path, **overrides: Any) -> Settings:
    """Isolated, migrated settings with the demo site allowlisted."""
    var_dir.mkdir(parents=True, exist_ok=True)
    keyring_file = var_dir / "keyring.json"
    if not keyring_file.exists():
        write_keyring_file(keyring_file, new_keyring_document())
    values: dict[str, Any] = {
        "var_dir": var_dir,
        "keyring_file": keyring_file,
        "allowed_origins": f"{SITE}, https://partner.example/",
        "console_rate_limit_storage": "memory://",
    }
    values.update(overrides)
    settings = load_settings(**values)
    upgrade(settings.database_url)
    return settings


def build_app(settings: Settings, fake: FakeRasa | None) -> Starlette:
    """The console application, its gateway talking to ``fake`` (or the URL)."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=fake.app()) if fake is not None else None
    setattr(
        app.state,
        STATE_ATTRIBUTE,
        GatewayState.from_settings(settings, rasa_transport=transport),
    )
    return app


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


def client_for(app: Starlette, origin: str = SITE) -> httpx.AsyncClient:
    """An HTTP client calling the application in process, from ``origin``."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="https://console.acme.example",
        headers={"Origin": origin},
    )


@pytest.fixture
async def make_client(
    tmp_path: Path, fake_rasa: FakeRasa
) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """Build a client of an application on settings with these overrides."""
    clients: list[httpx.AsyncClient] = []

    def make(**overrides: Any) -> httpx.AsyncClient:
        settings = gateway_settings(tmp_path / f"var{len(clients)}", **overrides)
        client = client_for(build_app(settings, fake_rasa))
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def client(make_client: Callable[..., httpx.AsyncClient]) -> httpx.AsyncClient:
    return make_client()
