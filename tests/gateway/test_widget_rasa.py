"""A whole conversation through the widget, the gateway, Rasa and actions.

Starts the real action server and Rasa server (the trained model, the
encrypted tracker store) on free loopback ports, the console on a third,
and drives the widget in headless Chromium: with the mouse, then with the
keyboard only. Each run must end with a stored lead whose fields are sealed
(the address is nowhere in the database file in clear, and decrypts through
the vault). Screenshots go to ``test-artifacts/widget/``.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from leads.settings import Settings
from leads.vault import Vault
from tests.gateway.conftest import build_app, gateway_settings
from tests.gateway.live_server import free_port, serve
from tests.gateway.test_widget_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    bot_texts,
    shot,
    widget,
)

pytestmark = [pytest.mark.rasa, pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
BOT_DIR = REPO / "bot"
RASA_CLI = REPO / ".venv-rasa" / "bin" / "rasa"
STARTUP_SECONDS = 240

if not RASA_CLI.exists() or not Path(CHROMIUM).exists():
    pytest.skip("needs the Rasa environment and Chromium", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

ANSWERS = {
    "your name": "Ana Lim",
    "company do you work for": "Canary Logistics Sdn Bhd",
    "job title": "Head of Operations",
    "what do you need help with": "A sales forecast our finance team trusts",
    "phone number": "skip",
}


def _environment(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADGUARD_")}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "PYTHONWARNINGS": "ignore",
            "LEADGUARD_VAR_DIR": str(settings.var_dir),
            "LEADGUARD_KEYRING_FILE": str(settings.keyring_file),
            "LEADGUARD_DATABASE_URL": settings.database_url,
            "LEADGUARD_PUBLIC_BASE_URL": settings.public_base_url,
        }
    )
    return env


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(log.read_text(errors="replace")[-3000:])
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not come up: {log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def model() -> Path:
    done = subprocess.run(
        [sys.executable, str(BOT_DIR / "train_model.py")],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    trained = Path(done.stdout.strip().splitlines()[-1])
    assert trained.is_file()
    return trained


@pytest.fixture(scope="module")
def stack(
    model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Settings]]:
    """Action server, Rasa and the console sharing one var directory."""
    work = tmp_path_factory.mktemp("widget-rasa")
    console_port, rasa_port, actions_port = free_port(), free_port(), free_port()
    settings = gateway_settings(
        work / "var",
        public_base_url=f"http://127.0.0.1:{console_port}",
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        chat_rasa_timeout_seconds=30,
    )
    env = _environment(settings)
    endpoints = work / "endpoints.yml"
    endpoints.write_text(
        (BOT_DIR / "endpoints.yml")
        .read_text()
        .replace("127.0.0.1:5055", f"127.0.0.1:{actions_port}")
    )
    processes = []
    actions_log, rasa_log = work / "actions.log", work / "rasa.log"
    with actions_log.open("wb") as out:
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "actions.server", "--port", str(actions_port)],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    with rasa_log.open("wb") as out:
        processes.append(
            subprocess.Popen(
                [
                    str(RASA_CLI),
                    "run",
                    "-i",
                    "127.0.0.1",
                    "-p",
                    str(rasa_port),
                    "-m",
                    str(model),
                    "--endpoints",
                    str(endpoints),
                    "--credentials",
                    "credentials.yml",
                ],
                cwd=BOT_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    try:
        _wait_until_up(
            f"http://127.0.0.1:{actions_port}/health", processes[0], actions_log
        )
        _wait_until_up(
            f"http://127.0.0.1:{rasa_port}/webhooks/redacting_rest/",
            processes[1],
            rasa_log,
        )
        with serve(build_app(settings, None), console_port) as url:
            yield url, settings
    finally:
        for process in reversed(processes):
            _stop(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def _chip_titles(page: Any) -> list[str]:
    return [t.strip() for t in widget(page, ".lgw-chip").all_text_contents()]


def _wait_for_reply(page: Any, before: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if widget(page, ".lgw-typing").is_hidden() and len(bot_texts(page)) > before:
            return
        status = widget(page, ".lgw-status-text").text_content() or ""
        assert not status, status
        page.wait_for_timeout(100)
    raise AssertionError("no reply from the bot")


def _converse(
    page: Any,
    email: str,
    choose: Callable[[Any, str], None],
    answer: Callable[[Any, str], None],
) -> list[str]:
    """Answer the bot until it thanks us for the enquiry; return its texts."""
    for _ in range(30):
        texts = bot_texts(page)
        last = texts[-1] if texts else ""
        chips = _chip_titles(page)
        before = len(texts)
        if "Discuss my needs" in chips:
            choose(page, "Discuss my needs")
        elif "Yes" in chips:
            choose(page, "Yes")
        elif chips and (
            "people work" in last or "get started" in last or "budget" in last
        ):
            choose(page, chips[0])
        elif "email address" in last:
            answer(page, email)
        else:
            reply = next((v for k, v in ANSWERS.items() if k in last), None)
            if reply is None:
                return texts
            answer(page, reply)
        _wait_for_reply(page, before)
    raise AssertionError(f"the conversation did not end: {bot_texts(page)[-3:]}")


def _click_chip(page: Any, title: str) -> None:
    widget(page, ".lgw-chip").filter(has_text=title).first.click()


def _type_with_mouse(page: Any, text: str) -> None:
    widget(page, ".lgw-input").fill(text)
    widget(page, ".lgw-send").click()


def _active_text(page: Any) -> str:
    return str(
        page.evaluate(
            "() => { const a = document.querySelector('[data-leadguard-widget]')"
            ".shadowRoot.activeElement; return a ? (a.id || a.textContent) : ''; }"
        )
    )


def _chip_by_keyboard(page: Any, title: str) -> None:
    for _ in range(12):
        if _active_text(page).strip() == title:
            page.keyboard.press("Enter")
            return
        page.keyboard.press("Shift+Tab")
    raise AssertionError(f"cannot reach the {title!r} button with the keyboard")


def _type_by_keyboard(page: Any, text: str) -> None:
    for _ in range(12):
        if _active_text(page) == "lgw-input":
            break
        page.keyboard.press("Tab")
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def _assert_sealed_lead(settings: Settings, email: str) -> None:
    vault = Vault.from_settings(settings)
    with vault.sessions() as session:
        lead_id = vault.find_lead_id(session, email)
        assert lead_id is not None, "no lead was stored"
        fields = vault.read_personal(session, lead_id)
    assert fields["email"] is not None and fields["email"].reveal() == email
    assert fields["name"] is not None and fields["name"].reveal() == "Ana Lim"
    database = Path(settings.database_url.split("///", 1)[1])
    for path in database.parent.glob(database.name + "*"):
        raw = path.read_bytes()
        assert email.encode() not in raw, path.name
        assert b"Canary Logistics" not in raw, path.name


def test_full_conversation_with_the_mouse(
    stack: tuple[str, Settings], browser: Any
) -> None:
    url, settings = stack
    email = f"ana.{secrets.token_hex(4)}@canary-logistics.example.com"
    page = browser.new_page()
    page.goto(url + "/")
    widget(page, ".lgw-launcher").click()
    widget(page, ".lgw-chip").first.wait_for(timeout=60_000)

    _converse(page, email, _click_chip, _type_with_mouse)

    shot(page, "rasa-conversation-mouse")
    _assert_sealed_lead(settings, email)
    page.close()


def test_full_conversation_with_the_keyboard_only(
    stack: tuple[str, Settings], browser: Any
) -> None:
    url, settings = stack
    email = f"ana.{secrets.token_hex(4)}@canary-logistics.example.com"
    page = browser.new_page()
    page.goto(url + "/")
    for _ in range(40):
        page.keyboard.press("Tab")
        if _active_text(page).strip() == "Chat with us":
            break
    page.keyboard.press("Enter")
    widget(page, ".lgw-chip").first.wait_for(timeout=60_000)

    _converse(page, email, _chip_by_keyboard, _type_by_keyboard)

    shot(page, "rasa-conversation-keyboard")
    _assert_sealed_lead(settings, email)
    page.close()
