"""A stand-in for Rasa's REST channel, for gateway and widget tests.

It echoes what it receives, offers consent buttons on the greeting, can be
told to fail or be slow, and remembers every message it got so that tests
can check what reached "Rasa".
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

WEBHOOK = "/webhooks/redacting_rest/webhook"
CONSENT_BUTTONS = [
    {"title": "Yes, I agree", "payload": "/consent_yes"},
    {"title": "No thanks", "payload": "/consent_no"},
]


@dataclass
class FakeRasa:
    """Behaviour switches and the log of received messages."""

    mode: str = "echo"  # echo | error | garbage | slow | html
    delay: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)

    def reply(self, message: str) -> list[dict[str, Any]]:
        if message == "/greet":
            return [
                {"text": "Hi! I can help you find the right plan."},
                {
                    "text": "May we store your answers? See our privacy notice.",
                    "buttons": CONSENT_BUTTONS,
                },
            ]
        if message.startswith("/"):
            return [{"text": f"intent {message}", "buttons": CONSENT_BUTTONS[:1]}]
        if self.mode == "html":
            return [{"text": "<img src=x onerror=alert(1)><script>alert(2)</script>"}]
        return [
            {"text": f"echo: {message}"},
            {"image": "https://tracker.example/pixel.gif"},
            {"custom": {"html": "<b>x</b>"}},
        ]

    async def webhook(self, request: Request) -> Response:
        body = await request.json()
        self.received.append(body)
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        if self.mode == "error":
            return PlainTextResponse(
                "Traceback (most recent call last): ActionExecutionRejection "
                "slot email=ana@example.com",
                status_code=500,
            )
        if self.mode == "garbage":
            return PlainTextResponse("<html>proxy error</html>", status_code=200)
        return JSONResponse(self.reply(str(body.get("message", ""))))

    def app(self) -> Starlette:
        return Starlette(routes=[Route(WEBHOOK, self.webhook, methods=["POST"])])
