"""The console in headless Chromium: TOTP sign-in, claim, reveal, export.

Uvicorn serves the application from a thread on a free port. Screenshots
go to ``test-artifacts/console/`` (git-ignored). The browser console is
watched for Content-Security-Policy violations.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
import uvicorn

from console.access import Role
from console.app import create_app
from console.users import create_user
from leads.settings import Settings
from leads.vault import Vault
from tests.console.conftest import (
    PASSWORD,
    StaffMember,
    make_lead,
    make_staff,
    settings_with,
)

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
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"

if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live(
    tmp_path: Path,
) -> Iterator[tuple[str, Vault, dict[Role, StaffMember], Settings]]:
    """The console served on a free port, with a salesperson and a manager."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    settings = settings_with(tmp_path, public_base_url=base)
    vault = Vault.from_settings(settings)
    staff = {
        Role.SALES: make_staff(vault, settings, Role.SALES, "rep@team.example"),
        Role.MANAGER: make_staff(vault, settings, Role.MANAGER, "lead@team.example"),
    }
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield base, vault, staff, settings
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def _page(browser: Any, violations: list[str]) -> Any:
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return page


def _sign_in(page: Any, base: str, member: StaffMember, shot: str) -> None:
    page.goto(f"{base}/console/")
    page.fill("input[name=email]", member.email)
    page.fill("input[name=password]", PASSWORD)
    page.screenshot(path=str(ARTIFACTS / f"{shot}-1-password.png"))
    page.click("button:has-text('Continue')")
    page.wait_for_url(re.compile(r".*/console/mfa(\?.*)?$"))
    page.fill("input[name=code]", member.code())
    page.screenshot(path=str(ARTIFACTS / f"{shot}-2-totp.png"))
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{base}/console/queue")


def test_sales_signs_in_claims_and_reveals(browser: Any, live: tuple) -> None:
    base, vault, staff, _settings = live
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    lead_id = make_lead(vault, "farah@kopi.example", name="Farah Aziz")
    violations: list[str] = []
    page = _page(browser, violations)

    _sign_in(page, base, staff[Role.SALES], "sales")
    assert page.locator("table.queue tbody tr").count() == 1
    page.screenshot(path=str(ARTIFACTS / "sales-3-queue.png"), full_page=True)
    page.click("table.queue button:has-text('Claim')")
    page.wait_for_url(f"{base}/console/leads/{lead_id}")
    assert "Farah Aziz" not in page.content()
    assert page.locator(".masked").count() == 6
    page.screenshot(path=str(ARTIFACTS / "sales-4-lead-masked.png"), full_page=True)

    page.select_option("select[name=reason]", "call_back")
    page.click("button:has-text('Reveal')")
    page.wait_for_selector("dd[data-field=name]:has-text('Farah Aziz')")
    assert "farah@kopi.example" in page.content()
    page.screenshot(path=str(ARTIFACTS / "sales-5-lead-revealed.png"), full_page=True)
    assert violations == []


def test_manager_exports_csv(browser: Any, live: tuple) -> None:
    base, vault, staff, _settings = live
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    make_lead(vault, "eve@evil.example", name="=cmd|' /C calc'!A0")
    violations: list[str] = []
    page = _page(browser, violations)

    _sign_in(page, base, staff[Role.MANAGER], "manager")
    page.click("nav a:has-text('Export')")
    page.wait_for_url(f"{base}/console/export")
    page.screenshot(path=str(ARTIFACTS / "manager-3-export.png"), full_page=True)
    with page.expect_download() as download_info:
        page.click("button:has-text('Download CSV')")
    download = download_info.value
    saved = ARTIFACTS / "manager-export.csv"
    download.save_as(str(saved))
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert len(rows) == 1
    assert rows[0]["name"] == "'=cmd|' /C calc'!A0"
    assert violations == []


def test_new_user_sets_up_password_and_totp(browser: Any, live: tuple) -> None:
    base, vault, _staff, settings = live
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with vault.sessions.begin() as session:
        _, link = create_user(
            session,
            vault.keyring,
            settings,
            email="officer@team.example",
            role=Role.PRIVACY_OFFICER,
            actor="test",
        )
    violations: list[str] = []
    page = _page(browser, violations)
    page.goto(link)
    passphrase = "correct horse battery staple " * 3
    page.fill("input[name=password]", passphrase)
    page.fill("input[name=confirm]", passphrase)
    page.click("button:has-text('Continue')")
    page.wait_for_url(f"{base}/console/enroll")
    qr = page.locator("img.qr")
    assert qr.evaluate("image => image.complete && image.naturalWidth > 0")
    page.screenshot(path=str(ARTIFACTS / "setup-1-enroll.png"), full_page=True)
    secret = page.locator("code.secret").inner_text().replace(" ", "")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("button:has-text('Confirm')")
    page.wait_for_selector("ul.codes")
    assert page.locator("ul.codes li").count() == 10
    page.screenshot(path=str(ARTIFACTS / "setup-2-recovery-codes.png"), full_page=True)
    page.click("a:has-text('continue')")
    page.wait_for_url(f"{base}/console/audit")
    assert "Chain verified" in page.content()
    page.screenshot(path=str(ARTIFACTS / "setup-3-audit-trail.png"), full_page=True)
    assert violations == []
