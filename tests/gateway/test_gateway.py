"""The chat gateway: origins, sessions, limits, cleaning and Rasa failures."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from console.gateway import STATE_ATTRIBUTE, GatewayState
from console.gateway_signing import ChatSigner
from tests.gateway.conftest import SITE, build_app, client_for, gateway_settings
from tests.gateway.fake_rasa import FakeRasa


async def start(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post("/chat/session", json={"language": "en"})
    assert response.status_code == 200, response.text
    return response.json()


async def say(client: httpx.AsyncClient, session: str, text: str) -> Any:
    return await client.post("/chat/message", json={"session": session, "text": text})


async def test_start_issues_an_opaque_session_and_the_greeting(
    client: httpx.AsyncClient, fake_rasa: FakeRasa
) -> None:
    body = await start(client)

    session_id, _, mac = body["session"].partition(".")
    assert len(session_id) == 32 and mac
    assert fake_rasa.received[0]["sender"] == session_id
    assert "@" not in fake_rasa.received[0]["sender"]
    texts = [m["text"] for m in body["messages"]]
    assert texts[0].startswith("Hi!")
    titles = [b["title"] for b in body["messages"][1]["buttons"]]
    assert titles == ["Yes, I agree", "No thanks"]
    assert all("payload" not in b for b in body["messages"][1]["buttons"])
    assert body["links"]["privacy"].endswith("/privacy/notice/v1")
    assert body["notice_version"] == "1"


async def test_two_sessions_never_share_an_id(client: httpx.AsyncClient) -> None:
    ids = {(await start(client))["session"] for _ in range(5)}
    assert len(ids) == 5


async def test_allowed_origin_gets_cors_headers(client: httpx.AsyncClient) -> None:
    response = await client.post("/chat/session", json={})
    assert response.headers["access-control-allow-origin"] == SITE
    assert "origin" in response.headers["vary"].lower()
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", "", "https://www.acme.example.evil"]
)
async def test_other_origins_are_refused(
    client: httpx.AsyncClient, origin: str
) -> None:
    response = await client.post("/chat/session", json={}, headers={"Origin": origin})
    assert response.status_code == 403
    assert response.json()["error"] == "origin"
    assert "access-control-allow-origin" not in response.headers


async def test_console_origin_and_listed_origins_are_allowed(
    client: httpx.AsyncClient,
) -> None:
    for origin in ("http://127.0.0.1:8000", "https://partner.example"):
        response = await client.post(
            "/chat/session", json={}, headers={"Origin": origin}
        )
        assert response.status_code == 200


async def test_preflight(client: httpx.AsyncClient) -> None:
    allowed = await client.options(
        "/chat/message",
        headers={
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == SITE
    assert allowed.headers["access-control-allow-methods"] == "POST"
    refused = await client.options(
        "/chat/message", headers={"Origin": "https://x.example"}
    )
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers


async def test_a_message_is_cleaned_answered_and_shown_as_text(
    client: httpx.AsyncClient, fake_rasa: FakeRasa
) -> None:
    session = (await start(client))["session"]

    response = await say(client, session, "  Hello\x00 there\u202e\n\tfriend  ")

    assert response.status_code == 200
    body = response.json()
    assert body["you"] == "Hello there friend"
    assert fake_rasa.received[-1]["message"] == "Hello there friend"
    assert [m["text"] for m in body["messages"]] == ["echo: Hello there friend"]
    assert response.headers["cache-control"] == "no-store"


async def test_typed_text_cannot_pose_as_an_intent(
    client: httpx.AsyncClient, fake_rasa: FakeRasa
) -> None:
    session = (await start(client))["session"]
    await say(client, session, '/inform{"email": "boss@example.com"}')
    assert not fake_rasa.received[-1]["message"].startswith("/")


async def test_quick_replies_travel_as_signed_tokens(
    client: httpx.AsyncClient, fake_rasa: FakeRasa
) -> None:
    first = await start(client)
    other = await start(client)
    reply = first["messages"][1]["buttons"][0]["reply"]

    ok = await client.post(
        "/chat/message", json={"session": first["session"], "reply": reply}
    )
    assert ok.status_code == 200
    assert fake_rasa.received[-1]["message"] == "/consent_yes"

    for forged in (reply + "x", "L2luZm9ybQ.AAAA", 17):
        response = await client.post(
            "/chat/message", json={"session": first["session"], "reply": forged}
        )
        assert response.status_code == 400
    stolen = await client.post(
        "/chat/message", json={"session": other["session"], "reply": reply}
    )
    assert stolen.status_code == 400


async def test_human_handoff_token_is_issued_with_the_session(
    client: httpx.AsyncClient, fake_rasa: FakeRasa
) -> None:
    body = await start(client)
    await client.post(
        "/chat/message", json={"session": body["session"], "reply": body["human"]}
    )
    assert fake_rasa.received[-1]["message"] == "/request_human"
    await client.post(
        "/chat/message", json={"session": body["session"], "reply": body["erase"]}
    )
    assert fake_rasa.received[-1]["message"] == "/request_erasure"


async def test_sensitive_numbers_never_reach_rasa(
    client: httpx.AsyncClient, fake_rasa: FakeRasa
) -> None:
    session = (await start(client))["session"]

    response = await say(client, session, "my card is 4111 1111 1111 1111 thanks")

    assert "4111" not in fake_rasa.received[-1]["message"]
    assert "[card number removed]" in fake_rasa.received[-1]["message"]
    assert response.json()["redacted"] is True
    assert "4111" not in response.text


@pytest.mark.parametrize("token", ["", "abc", "abc.def", None, 5, "x" * 5000])
async def test_forged_sessions_are_refused(
    client: httpx.AsyncClient, token: object
) -> None:
    response = await client.post("/chat/message", json={"session": token, "text": "hi"})
    assert response.status_code == 401
    assert response.json()["error"] == "session"


async def test_a_session_signed_with_another_key_is_refused(
    client: httpx.AsyncClient,
) -> None:
    _, token = ChatSigner(b"k" * 32).new_session()
    assert (await say(client, token, "hi")).status_code == 401


async def test_bad_bodies_get_a_clear_4xx(client: httpx.AsyncClient) -> None:
    session = (await start(client))["session"]
    cases = [
        (
            {"content": b"not json", "headers": {"Content-Type": "application/json"}},
            400,
        ),
        (
            {"content": b"\xff\xfe", "headers": {"Content-Type": "application/json"}},
            400,
        ),
        ({"content": b"[1,2]", "headers": {"Content-Type": "application/json"}}, 400),
        ({"content": b"text=hi", "headers": {"Content-Type": "text/plain"}}, 415),
        ({"json": {"session": session, "text": "x" * 1001}}, 413),
        ({"json": {"session": session, "text": "a" * 50_000}}, 413),
        ({"json": {"session": session, "text": " \x00\x01 "}}, 400),
        ({"json": {"session": session, "text": ["list"]}}, 400),
    ]
    for kwargs, status in cases:
        response = await client.post("/chat/message", **kwargs)
        assert response.status_code == status, (kwargs, response.text)
        assert response.json()["message"]


async def test_deeply_nested_json_is_a_4xx(client: httpx.AsyncClient) -> None:
    body = b"[" * 100_00 + b"]" * 100_00
    response = await client.post(
        "/chat/message", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 413)


async def test_per_session_rate_limit(
    make_client: Callable[..., httpx.AsyncClient],
) -> None:
    client = make_client(chat_rate_per_session="3/minute")
    session = (await start(client))["session"]
    statuses = [(await say(client, session, "hi")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]

    refused = await say(client, session, "hi")
    assert refused.json()["error"] == "rate_limited"
    assert refused.json()["retry"] is True
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    other = (await start(client))["session"]
    assert (await say(client, other, "hi")).status_code == 200


async def test_per_address_rate_limit(
    make_client: Callable[..., httpx.AsyncClient],
) -> None:
    client = make_client(chat_rate_per_address="4/minute")
    session = (await start(client))["session"]
    statuses = [(await say(client, session, "hi")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


async def test_bad_rate_setting_stops_start_up(tmp_path: Any) -> None:
    from leads.errors import ConfigurationError

    settings = gateway_settings(tmp_path / "var", chat_rate_per_session="lots")
    with pytest.raises(ConfigurationError, match="CHAT_RATE_PER_SESSION"):
        GatewayState.from_settings(settings)


@pytest.mark.parametrize("mode", ["error", "garbage"])
async def test_rasa_failures_become_a_friendly_retry(
    client: httpx.AsyncClient, fake_rasa: FakeRasa, mode: str
) -> None:
    session = (await start(client))["session"]
    fake_rasa.mode = mode

    response = await say(client, session, "hello")

    assert response.status_code == 503
    body = response.json()
    assert body == {
        "error": "unavailable",
        "message": body["message"],
        "retry": True,
    }
    assert "try again" in body["message"]
    for leaked in ("Traceback", "ActionExecution", "ana@example.com", "proxy"):
        assert leaked not in response.text


async def test_slow_rasa_times_out(
    make_client: Callable[..., httpx.AsyncClient], fake_rasa: FakeRasa
) -> None:
    client = make_client(chat_rasa_timeout_seconds=0.3)
    session = (await start(client))["session"]
    fake_rasa.mode, fake_rasa.delay = "slow", 2.0
    response = await say(client, session, "hello")
    assert response.status_code == 503
    assert response.json()["error"] == "unavailable"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_rasa_down_keeps_the_page_working(tmp_path: Any) -> None:
    settings = gateway_settings(
        tmp_path / "var", rasa_url=f"http://127.0.0.1:{_closed_port()}"
    )
    app = build_app(settings, None)
    async with client_for(app) as client:
        response = await client.post("/chat/session", json={})
    assert response.status_code == 503
    assert response.json()["retry"] is True
    assert "Connect" not in response.text


async def test_logs_carry_no_message_contents(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    session = (await start(client))["session"]
    await say(client, session, "I am ana.planted@example.com, card 4111111111111111")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "ana.planted" not in logged
    assert "4111" not in logged
    assert session.split(".")[0] not in logged
    assert "chat.message" in logged


async def test_state_is_built_on_first_use(tmp_path: Any) -> None:
    settings = gateway_settings(tmp_path / "var")
    app = build_app(settings, None)
    delattr(app.state, STATE_ATTRIBUTE)
    app.state.settings = settings
    async with client_for(app, "http://evil.example") as client:
        assert (await client.post("/chat/session", json={})).status_code == 403
    assert isinstance(getattr(app.state, STATE_ATTRIBUTE), GatewayState)


async def test_widget_files_are_served_for_other_origins(
    client: httpx.AsyncClient,
) -> None:
    script = await client.get("/widget/leadguard-widget.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cross-origin-resource-policy"] == "cross-origin"
    assert "set-cookie" not in script.headers
    assert "innerHTML" not in script.text
    styles = await client.get("/widget/leadguard-widget.css")
    assert styles.headers["content-type"].startswith("text/css")
    for name in ("../gateway.py", "..%2Fgateway.py", "other.js", "pages.css.map"):
        assert (await client.get(f"/widget/{name}")).status_code == 404


async def test_demo_site_embeds_the_widget_with_one_tag(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert page.text.count("<script") == 1
    assert 'src="/widget/leadguard-widget.js"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "set-cookie" not in page.headers
