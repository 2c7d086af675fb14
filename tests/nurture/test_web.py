"""The unsubscribe endpoints: RFC 8058 one-click, and a GET that only asks."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from console.access import rule_of
from leads.consent import may_use
from leads.models import Lead, Purpose, Suppression
from leads.settings import Settings
from leads.vault import Vault
from nurture import web
from nurture.tokens import unsubscribe_token
from tests.nurture.conftest import add_lead


def _client(settings: Settings) -> httpx.AsyncClient:
    app = Starlette(routes=web.routes)
    app.state.settings = settings
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="https://testserver")


def _suppressed(vault: Vault, lead_id: uuid.UUID) -> bool:
    with vault.sessions() as session:
        index = session.get(Lead, lead_id).email_index  # type: ignore[union-attr]
        return bool(
            session.scalar(
                select(func.count())
                .select_from(Suppression)
                .where(Suppression.email_index == index)
            )
        )


def test_every_route_declares_a_public_rule() -> None:
    for route in web.routes:
        rule = rule_of(route.endpoint)  # type: ignore[attr-defined]
        assert rule is not None and rule.public and rule.reason


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
async def test_one_click_post_unsubscribes_with_empty_200(
    settings: Settings, nurture_vault: Vault, encoding: str
) -> None:
    lead_id = add_lead(nurture_vault)
    token = unsubscribe_token(nurture_vault.keyring, lead_id)
    client = _client(settings)
    path = f"/unsubscribe/{token}"
    if encoding == "urlencoded":
        response = await client.post(path, data={"List-Unsubscribe": "One-Click"})
    else:
        response = await client.post(
            path, files={"List-Unsubscribe": (None, "One-Click")}
        )
    assert response.status_code == 200
    assert response.content == b""
    assert "set-cookie" not in response.headers
    assert not response.is_redirect
    assert _suppressed(nurture_vault, lead_id)
    with nurture_vault.sessions() as session:
        assert not may_use(session, lead_id, Purpose.EMAIL_NURTURE)


async def test_get_shows_a_page_and_does_not_unsubscribe(
    settings: Settings, nurture_vault: Vault
) -> None:
    lead_id = add_lead(nurture_vault)
    token = unsubscribe_token(nurture_vault.keyring, lead_id)
    response = await _client(settings).get(f"/unsubscribe/{token}")
    assert response.status_code == 200
    assert 'name="List-Unsubscribe" value="One-Click"' in response.text
    assert "<script" not in response.text and "style=" not in response.text
    assert not _suppressed(nurture_vault, lead_id)
    with nurture_vault.sessions() as session:
        assert may_use(session, lead_id, Purpose.EMAIL_NURTURE)


async def test_confirmation_button_unsubscribes_and_shows_done(
    settings: Settings, nurture_vault: Vault
) -> None:
    lead_id = add_lead(nurture_vault)
    token = unsubscribe_token(nurture_vault.keyring, lead_id)
    response = await _client(settings).post(
        f"/unsubscribe/{token}",
        data={"List-Unsubscribe": "One-Click", "from_page": "1"},
    )
    assert response.status_code == 200
    assert "You are unsubscribed" in response.text
    assert _suppressed(nurture_vault, lead_id)


async def test_forged_token_and_missing_field_are_refused(
    settings: Settings, nurture_vault: Vault
) -> None:
    lead_id = add_lead(nurture_vault)
    token = unsubscribe_token(nurture_vault.keyring, lead_id)
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    client = _client(settings)
    one_click = {"List-Unsubscribe": "One-Click"}
    forged_reply = await client.post(f"/unsubscribe/{forged}", data=one_click)
    assert forged_reply.status_code == 404
    missing_field = await client.post(f"/unsubscribe/{token}", data={})
    assert missing_field.status_code == 400
    assert not _suppressed(nurture_vault, lead_id)
