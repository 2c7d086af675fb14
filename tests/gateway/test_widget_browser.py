"""The widget in headless Chromium, against the gateway and a fake Rasa.

Screenshots go to ``test-artifacts/widget/`` (git-ignored). The full
conversation against the real Rasa and action server is in
``test_widget_rasa.py``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gateway.conftest import SITE, build_app, gateway_settings
from tests.gateway.fake_rasa import FakeRasa
from tests.gateway.live_server import free_port, serve

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # The "customer websites" of these tests are pages Playwright serves
    # under public names; let them reach the console on loopback, as they
    # would reach a public console in production.
    "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "widget"
WIDGET = "[data-leadguard-widget]"

if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def live(tmp_path: Path, fake_rasa: FakeRasa) -> Iterator[Callable[..., str]]:
    """Start the console on a free port with these setting overrides."""
    stack: list[Any] = []

    def start(**overrides: Any) -> str:
        port = free_port()
        settings = gateway_settings(
            tmp_path / f"var{len(stack)}",
            public_base_url=f"http://127.0.0.1:{port}",
            **overrides,
        )
        server = serve(build_app(settings, fake_rasa), port)
        url = server.__enter__()
        stack.append(server)
        return url

    yield start
    for server in reversed(stack):
        server.__exit__(None, None, None)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    problems: list[str] = []
    opened.on(
        "console",
        lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
    )
    opened.on("pageerror", lambda e: problems.append(str(e)))
    opened.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    opened.problems = problems
    yield opened
    context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def widget(page: Any, css: str) -> Any:
    return page.locator(f"{WIDGET} {css}")


def bot_texts(page: Any) -> list[str]:
    return widget(page, ".lgw-bot .lgw-text").all_text_contents()


def open_chat(page: Any, url: str) -> None:
    page.goto(url + "/")
    widget(page, ".lgw-launcher").click()
    widget(page, ".lgw-chip").first.wait_for()


def test_conversation_with_the_mouse(live: Callable[..., str], page: Any) -> None:
    url = live()
    open_chat(page, url)

    assert bot_texts(page)[0].startswith("Hi!")
    privacy = widget(page, ".lgw-intro a")
    assert privacy.get_attribute("href") == f"{url}/privacy/notice/v1"
    widget(
        page,
        ".lgw-chip",
    ).filter(has_text="Yes, I agree").click()
    widget(page, ".lgw-you").filter(has_text="Yes, I agree").wait_for()

    widget(page, ".lgw-input").fill("We need a forecast for 40 sellers")
    widget(page, ".lgw-send").click()
    widget(page, ".lgw-bot").filter(has_text="echo: We need").wait_for()

    assert widget(page, ".lgw-input").input_value() == ""
    assert widget(page, ".lgw-human").is_visible()
    assert widget(page, ".lgw-erase").is_visible()
    assert page.context.cookies() == []
    assert not [p for p in page.problems if "Content Security Policy" in p]
    assert page.problems == []
    shot(page, "conversation-desktop")


def test_keyboard_only(live: Callable[..., str], page: Any) -> None:
    url = live()
    page.goto(url + "/")

    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const h = document.querySelector('[data-leadguard-widget]');"
            " const a = h && h.shadowRoot.activeElement;"
            " return a ? a.className : ''; }"
        )
        if focused == "lgw-launcher":
            break
    else:
        pytest.fail("the launcher cannot be reached with Tab")
    page.keyboard.press("Enter")
    widget(page, ".lgw-chip").first.wait_for()
    assert (
        page.evaluate(
            "() => document.querySelector('[data-leadguard-widget]')"
            ".shadowRoot.activeElement.id"
        )
        == "lgw-input"
    )

    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    widget(page, ".lgw-you").filter(has_text="Yes, I agree").wait_for()

    page.keyboard.press("Tab")  # the focus went back to the message box
    page.keyboard.press("Shift+Tab")
    page.keyboard.type("Hello from the keyboard")
    page.keyboard.press("Enter")
    widget(page, ".lgw-bot").filter(has_text="echo: Hello from the keyboard").wait_for()
    shot(page, "keyboard-conversation")

    page.keyboard.press("Escape")
    assert widget(page, ".lgw-panel").is_hidden()
    assert widget(page, ".lgw-launcher").get_attribute("aria-expanded") == "false"
    shot(page, "keyboard-closed")
    assert page.problems == []


def test_rate_limit_shows_a_clear_message(live: Callable[..., str], page: Any) -> None:
    url = live(chat_rate_per_session="2/minute")
    open_chat(page, url)
    for text in ("one", "two"):
        widget(page, ".lgw-input").fill(text)
        widget(page, ".lgw-input").press("Enter")
        widget(page, ".lgw-bot").filter(has_text=f"echo: {text}").wait_for()

    widget(page, ".lgw-input").fill("three, kept")
    widget(page, ".lgw-input").press("Enter")

    status = widget(page, ".lgw-status-text")
    status.filter(has_text="too quickly").wait_for()
    assert re.search(r"wait \d+ seconds", status.text_content() or "")
    assert widget(page, ".lgw-input").input_value() == "three, kept"
    assert widget(page, ".lgw-status").get_attribute("role") == "alert"
    shot(page, "rate-limited")


def test_bot_down_keeps_the_text_and_retries(
    live: Callable[..., str], page: Any, fake_rasa: FakeRasa
) -> None:
    url = live()
    open_chat(page, url)
    fake_rasa.mode = "error"

    widget(page, ".lgw-input").fill("Please keep this message")
    widget(page, ".lgw-input").press("Enter")
    widget(page, ".lgw-status-text").filter(has_text="not responding").wait_for()
    assert widget(page, ".lgw-input").input_value() == "Please keep this message"
    shot(page, "bot-down")

    fake_rasa.mode = "echo"
    widget(page, ".lgw-retry").click()
    widget(page, ".lgw-bot").filter(has_text="echo: Please keep").wait_for()
    assert widget(page, ".lgw-input").input_value() == ""
    assert widget(page, ".lgw-retry").is_hidden()
    assert "Traceback" not in page.content()


def test_lost_connection_keeps_the_text(live: Callable[..., str], page: Any) -> None:
    url = live()
    open_chat(page, url)
    page.context.set_offline(True)

    widget(page, ".lgw-input").fill("typed while offline")
    widget(page, ".lgw-input").press("Enter")
    widget(page, ".lgw-status-text").filter(has_text="could not reach").wait_for()
    assert widget(page, ".lgw-input").input_value() == "typed while offline"

    page.context.set_offline(False)
    widget(page, ".lgw-bot").filter(has_text="echo: typed while offline").wait_for()


def test_replies_are_text_never_html(
    live: Callable[..., str], page: Any, fake_rasa: FakeRasa
) -> None:
    url = live()
    open_chat(page, url)
    fake_rasa.mode = "html"
    page.on("dialog", lambda dialog: pytest.fail("a script ran"))

    widget(page, ".lgw-input").fill("<b>bold?</b>")
    widget(page, ".lgw-input").press("Enter")
    widget(page, ".lgw-bot").filter(has_text="<img src=x").wait_for()

    assert widget(page, "img").count() == 0
    assert widget(page, "script").count() == 0
    assert widget(page, "b").count() == 0
    assert widget(page, ".lgw-you .lgw-text").last.text_content() == "<b>bold?</b>"


def test_phone_sized_screen(live: Callable[..., str], browser: Any) -> None:
    url = live()
    context = browser.new_context(
        viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.goto(url + "/")
    widget(page, ".lgw-launcher").tap()
    widget(page, ".lgw-chip").first.wait_for()
    box = widget(page, ".lgw-panel").bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert box["y"] >= 0 and box["y"] + box["height"] <= 640
    for part in (".lgw-send", ".lgw-human", ".lgw-erase", ".lgw-close"):
        assert widget(page, part).is_visible(), part
    shot(page, "conversation-phone")
    context.close()


def _luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
    linear = [
        c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize("accent", ["#0b57d0", "#ffd54f", "#00ff00", "#222222"])
def test_theme_keeps_aa_contrast(
    browser: Any, live: Callable[..., str], accent: str
) -> None:
    url = live()
    context = browser.new_context()
    page = context.new_page()
    page.goto(url + "/privacy/notice")  # a page of the same origin, no widget
    page.evaluate(
        "([src, accent]) => { const s = document.createElement('script');"
        " s.src = src; s.dataset.accent = accent; s.dataset.accentText = '#ffffff';"
        " s.dataset.title = 'Sembang'; s.dataset.lang = 'ms';"
        " s.dataset.position = 'left'; document.body.append(s); }",
        [f"{url}/widget/leadguard-widget.js", accent],
    )
    widget(page, ".lgw-launcher").click()
    widget(page, ".lgw-chip").first.wait_for()
    assert widget(page, ".lgw-title").text_content() == "Sembang"
    assert widget(page, ".lgw-launcher").text_content() == "Bersembang dengan kami"
    assert widget(page, ".lgw-human").text_content() == "Bercakap dengan manusia"
    box = widget(page, ".lgw-panel").bounding_box()
    assert box is not None and box["x"] < 100

    pairs = [".lgw-header", ".lgw-send", ".lgw-bot", ".lgw-intro", ".lgw-chip"]
    for css in pairs:
        colours = widget(page, css).first.evaluate(
            "e => { const s = getComputedStyle(e);"
            " return [s.color, s.backgroundColor]; }"
        )
        background = colours[1]
        if background in ("rgba(0, 0, 0, 0)", "transparent"):
            background = "rgb(255, 255, 255)"
        assert _contrast(colours[0], background) >= 4.5, (css, accent, colours)
    context.close()


HOST_PAGE = """<!doctype html><html lang="en"><head><title>Host</title></head>
<body><h1>A customer's website</h1>
<script src="{url}/widget/leadguard-widget.js" data-title="Chat"></script>
</body></html>"""


@pytest.mark.parametrize(
    ("site", "allowed"),
    [(SITE, True), ("https://unlisted.example", False)],
)
def test_embedded_on_another_origin(
    live: Callable[..., str],
    browser: Any,
    fake_rasa: FakeRasa,
    site: str,
    allowed: bool,
) -> None:
    url = live()
    context = browser.new_context()
    page = context.new_page()
    page.route(
        f"{site}/",
        lambda route: route.fulfill(
            status=200,
            content_type="text/html",
            body=HOST_PAGE.format(url=url),
            headers={
                "Content-Security-Policy": (
                    f"default-src 'self'; script-src {url}; style-src {url};"
                    f" connect-src {url}"
                )
            },
        ),
    )
    page.goto(f"{site}/")
    widget(page, ".lgw-launcher").click()
    if allowed:
        widget(page, ".lgw-chip").first.wait_for()
        assert bot_texts(page)[0].startswith("Hi!")
        widget(page, ".lgw-erase").click()
        widget(page, ".lgw-you").filter(has_text="Delete my data").wait_for()
        assert fake_rasa.received[-1]["message"] == "/request_erasure"
        page_link = widget(page, ".lgw-note a")
        assert page_link.get_attribute("href") == f"{url}/privacy/erase"
    else:
        # The browser hides the refusal (CORS), so the widget can only say
        # that the assistant is out of reach; nothing reached the bot.
        status = widget(page, ".lgw-status-text")
        status.filter(has_text="could not reach").wait_for()
        assert bot_texts(page) == []
        assert fake_rasa.received == []
    shot(page, f"embedded-{'allowed' if allowed else 'refused'}")
    context.close()
