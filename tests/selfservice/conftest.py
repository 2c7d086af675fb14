"""Fixtures of the self-service tests: an app, a mail sink, a known lead."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from console.app import create_app
from leads.consent import ConsentAnswer
from leads.models import Purpose
from leads.settings import Settings
from leads.vault import LeadInput, Vault
from tests.gateway.conftest import gateway_settings

LINK = re.compile(r"https?://[^/\s]+/privacy/link/([A-Za-z0-9_-]+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Site:
    """One deployment: settings, the app, its vault and its mail folder."""

    settings: Settings
    app: Starlette
    vault: Vault

    @property
    def mail_dir(self) -> Path:
        return self.settings.var_dir.resolve() / "mail"

    def mails(self) -> list[email.message.EmailMessage]:
        found = []
        for path in sorted(self.mail_dir.glob("*.eml")):
            parsed = email.message_from_bytes(
                path.read_bytes(), policy=email.policy.default
            )
            assert isinstance(parsed, email.message.EmailMessage)
            found.append(parsed)
        return found

    def wait_for_mails(self, count: int) -> list[email.message.EmailMessage]:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            mails = self.mails()
            if len(mails) >= count:
                return mails
            time.sleep(0.05)
        raise AssertionError(f"expected {count} mails, found {len(self.mails())}")

    def last_link_token(self) -> str:
        body = self.mails()[-1].get_body(("plain",))
        assert body is not None
        match = LINK.search(body.get_content())
        assert match, "no link in the last mail"
        return match.group(1)

    def add_lead(self, address: str) -> uuid.UUID:
        with self.vault.sessions.begin() as session:
            result = self.vault.capture_lead(
                session,
                LeadInput(
                    name="Ana Tan",
                    email=address,
                    company="Acme Sdn Bhd",
                    job_title="Head of Operations",
                    need="A forecast we trust",
                ),
                score=80,
                tier="hot",
                source="test",
                consents=[ConsentAnswer(Purpose.SALES_CONTACT, True, "1", "chat")],
                chat_session_id="a" * 32,
            )
        return result.lead_id


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    from nurture.mail_sink import start_sink

    port = free_port()
    settings = gateway_settings(
        tmp_path / "var",
        smtp_port=port,
        smtp_host="127.0.0.1",
        smtp_security="dev-sink",
        public_base_url="https://console.acme.example",
    )
    sink = start_sink(settings.var_dir.resolve() / "mail", port=port)
    try:
        app = create_app(settings)
        yield Site(settings, app, app.state.console.vault)
    finally:
        sink.stop()


@pytest.fixture
async def web(site: Site) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=site.app),
        base_url="https://console.acme.example",
    ) as client:
        yield client


def form(address: str) -> dict[str, Any]:
    return {"data": {"email": address}}
