"""Visitor self-service: notices, link requests, single-use links."""

from __future__ import annotations

import datetime as dt
import logging
import re

import httpx
import pytest
from sqlalchemy import select, update

from console.selfservice_models import SelfServiceToken
from console.selfservice_tokens import hash_token
from leads.blind_index import blind_index_for_email
from leads.models import AuditEvent, PrivacyRequest, Suppression, utcnow
from leads.notices import current_notice
from tests.selfservice.conftest import Site, form

KNOWN = "ana.known@acme-customer.example"
UNKNOWN = "nobody.here@acme-customer.example"


def _without_token_noise(html: str) -> str:
    return re.sub(r"\s+", " ", html)


async def test_current_notice_page(web: httpx.AsyncClient) -> None:
    response = await web.get("/privacy/notice")
    assert response.status_code == 200
    notice = current_notice()
    assert f"Version {notice.version}" in response.text
    assert notice.sha256 in response.text
    assert "<strong>Who we are.</strong>" in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "<script" not in response.text
    assert "<style" not in response.text


async def test_notice_versions(web: httpx.AsyncClient) -> None:
    assert (await web.get("/privacy/notice/v1")).status_code == 200
    assert (await web.get("/privacy/notice/v999")).status_code == 404
    assert (await web.get("/privacy/notice/vabc")).status_code == 404


async def test_forms_render(web: httpx.AsyncClient) -> None:
    for path in ("/privacy/access", "/privacy/erase"):
        response = await web.get(path)
        assert response.status_code == 200
        assert 'for="email"' in response.text
        assert response.headers["cache-control"] == "no-store"


async def test_known_and_unknown_addresses_get_the_same_answer(
    site: Site, web: httpx.AsyncClient
) -> None:
    site.add_lead(KNOWN)

    known = await web.post("/privacy/access", **form(KNOWN))
    unknown = await web.post("/privacy/access", **form(UNKNOWN))

    assert known.status_code == unknown.status_code == 200
    assert _without_token_noise(known.text) == _without_token_noise(unknown.text)
    assert dict(known.headers).keys() == dict(unknown.headers).keys()
    mails = site.wait_for_mails(2)
    by_recipient = {str(m["To"]): m for m in mails}
    known_body = by_recipient[KNOWN].get_body(("plain",)).get_content()
    unknown_body = by_recipient[UNKNOWN].get_body(("plain",)).get_content()
    assert "/privacy/link/" in known_body
    assert "/privacy/link/" not in unknown_body
    assert "no data about this address" in unknown_body


async def test_invalid_address_is_a_form_error(
    site: Site, web: httpx.AsyncClient
) -> None:
    response = await web.post("/privacy/erase", **form("not an address"))
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert site.mails() == []


async def test_access_link_downloads_json_once(
    site: Site, web: httpx.AsyncClient
) -> None:
    lead_id = site.add_lead(KNOWN)
    await web.post("/privacy/access", **form(KNOWN))
    site.wait_for_mails(1)
    token = site.last_link_token()
    assert "@" not in token

    page = await web.get(f"/privacy/link/{token}")
    assert page.status_code == 200
    assert "Download my data" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    again = await web.get(f"/privacy/link/{token}")
    assert again.status_code == 200, "opening the link must not use it up"

    download = await web.post(f"/privacy/link/{token}")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/json")
    assert "attachment" in download.headers["content-disposition"]
    document = download.json()
    assert document["lead_id"] == str(lead_id)
    assert document["fields"]["email"] == KNOWN
    assert document["fields"]["name"] == "Ana Tan"

    reused = await web.post(f"/privacy/link/{token}")
    assert reused.status_code == 410
    assert (await web.get(f"/privacy/link/{token}")).status_code == 410
    with site.vault.sessions() as session:
        request = session.scalar(select(PrivacyRequest))
        assert request is not None
        assert (request.kind, request.status, request.channel) == (
            "access",
            "completed",
            "web",
        )
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {"privacy.access.requested", "subject.exported"} <= actions


async def test_erasure_link_erases_after_confirmation(
    site: Site, web: httpx.AsyncClient
) -> None:
    lead_id = site.add_lead(KNOWN)
    await web.post("/privacy/erase", **form(KNOWN))
    site.wait_for_mails(1)
    token = site.last_link_token()

    page = await web.get(f"/privacy/link/{token}")
    assert "Delete my data" in page.text
    with site.vault.sessions() as session:
        assert site.vault.find_lead_id(session, KNOWN) == lead_id

    done = await web.post(f"/privacy/link/{token}")

    assert done.status_code == 200
    assert "Your data was deleted" in done.text
    with site.vault.sessions() as session:
        assert site.vault.find_lead_id(session, KNOWN) is None
        index = blind_index_for_email(site.vault.keyring, KNOWN)
        assert session.scalar(
            select(Suppression.id).where(Suppression.email_index == index)
        )
        assert session.scalar(select(SelfServiceToken.id)) is None
        request = session.scalar(select(PrivacyRequest))
        assert request is not None and request.status == "completed"
    assert (await web.post(f"/privacy/link/{token}")).status_code == 410


async def test_expired_and_forged_links_do_nothing(
    site: Site, web: httpx.AsyncClient
) -> None:
    site.add_lead(KNOWN)
    await web.post("/privacy/erase", **form(KNOWN))
    site.wait_for_mails(1)
    token = site.last_link_token()
    with site.vault.sessions.begin() as session:
        session.execute(
            update(SelfServiceToken).values(
                expires_at=utcnow() - dt.timedelta(seconds=1)
            )
        )

    for candidate in (token, token[:-1] + "A", "x", "%00", "a" * 500):
        assert (await web.get(f"/privacy/link/{candidate}")).status_code in (404, 410)
        assert (await web.post(f"/privacy/link/{candidate}")).status_code in (404, 410)
    with site.vault.sessions() as session:
        assert site.vault.find_lead_id(session, KNOWN) is not None


async def test_only_the_token_hash_is_stored(
    site: Site, web: httpx.AsyncClient
) -> None:
    site.add_lead(KNOWN)
    await web.post("/privacy/access", **form(KNOWN))
    site.wait_for_mails(1)
    token = site.last_link_token()
    with site.vault.sessions() as session:
        row = session.scalar(select(SelfServiceToken))
    assert row is not None
    assert row.token_hash == hash_token(token)
    assert token.encode() not in row.token_hash
    lifetime = row.expires_at - row.created_at
    assert lifetime == dt.timedelta(minutes=site.settings.selfservice_link_minutes)


async def test_requests_are_rate_limited_per_address(
    site: Site, web: httpx.AsyncClient
) -> None:
    limit = int(site.settings.selfservice_rate_per_address.split("/")[0])
    statuses = [
        (await web.post("/privacy/access", **form(f"p{i}@example.com"))).status_code
        for i in range(limit + 1)
    ]
    assert statuses[:-1] == [200] * limit
    assert statuses[-1] == 429


async def test_one_address_gets_few_mails(site: Site, web: httpx.AsyncClient) -> None:
    for _ in range(5):
        assert (await web.post("/privacy/erase", **form(UNKNOWN))).status_code == 200
    site.wait_for_mails(3)
    assert len(site.mails()) == 3


async def test_no_address_in_logs_or_urls(
    site: Site, web: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    site.add_lead(KNOWN)
    response = await web.post("/privacy/access", **form(KNOWN))
    site.wait_for_mails(1)
    token = site.last_link_token()
    await web.post(f"/privacy/link/{token}")
    ours = ("console", "leads", "nurture")
    logged = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith(ours)
    )
    assert "selfservice.link_sent" in logged
    assert "ana.known" not in logged
    assert token not in logged
    assert "ana.known" not in str(response.url)
