"""`leadguard dev`: health checks against real listeners, banner, heartbeats."""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from leads.cli.dev import addresses, dev, service_checks, wait_until_healthy
from leads.heartbeat import HEARTBEAT_DIR_ENV, beat
from leads.settings import Settings, load_settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Healthy(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 200 if self.path in {"/", "/readyz", "/health"} else 404
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def http_port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Healthy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


class Sink:
    async def handle_DATA(self, *args: object) -> str:  # noqa: N802 - aiosmtpd
        return "250 OK"


@pytest.fixture
def smtp_port() -> Iterator[tuple[int, Controller]]:
    port = free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, controller
    with contextlib.suppress(AssertionError):  # already stopped by the test
        controller.stop()


@pytest.fixture
def stack_settings(
    settings: Settings,
    http_port: int,
    smtp_port: tuple[int, Controller],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    monkeypatch.setenv(HEARTBEAT_DIR_ENV, str(tmp_path / "beats"))
    return load_settings(
        var_dir=settings.var_dir,
        keyring_file=settings.keyring_file,
        database_url=settings.database_url,
        console_port=http_port,
        rasa_url=f"http://127.0.0.1:{http_port}",
        action_server_port=http_port,
        mail_sink_port=smtp_port[0],
    )


def test_all_healthy_then_one_goes_down(
    stack_settings: Settings, smtp_port: tuple[int, Controller]
) -> None:
    checks = service_checks(stack_settings)
    assert {check.name for check in checks} == {
        "console",
        "rasa",
        "actions",
        "mail",
        "worker",
        "beat",
    }
    state = wait_until_healthy(checks, timeout=0.5)
    assert not state["worker"] and not state["beat"]
    beat("worker")
    beat("beat")
    changes: list[tuple[str, bool]] = []
    state = wait_until_healthy(
        checks, timeout=5, on_change=lambda name, ok: changes.append((name, ok))
    )
    assert all(state.values()), state
    assert ("worker", True) in changes
    smtp_port[1].stop()
    state = wait_until_healthy(checks, timeout=0.5)
    assert state["mail"] is False
    assert state["console"] is True


def test_wait_healthy_command_names_what_is_down(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(HEARTBEAT_DIR_ENV, str(tmp_path / "beats"))
    monkeypatch.setenv("LEADGUARD_CONSOLE_PORT", str(free_port()))
    monkeypatch.setenv("LEADGUARD_MAIL_SINK_PORT", str(free_port()))
    from leads import settings as settings_module

    settings_module.get_settings.cache_clear()
    try:
        result = CliRunner().invoke(dev, ["wait-healthy", "--timeout", "0.2"])
    finally:
        settings_module.get_settings.cache_clear()
    assert result.exit_code == 1
    assert "console" in result.output and "worker" in result.output


def test_heartbeat_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(HEARTBEAT_DIR_ENV, str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(dev, ["heartbeat", "worker"]).exit_code == 1
    beat("worker")
    assert runner.invoke(dev, ["heartbeat", "worker"]).exit_code == 0
    stale = runner.invoke(dev, ["heartbeat", "worker", "--max-age", "-1"])
    assert stale.exit_code == 1


def test_banner_names_only_pages_that_exist(settings: Settings) -> None:
    with_site = dict(addresses(settings, {"/", "/console/", "/metrics"}))
    assert with_site["demo site"].startswith("http://127.0.0.1:8000/ ")
    assert with_site["console"] == "http://127.0.0.1:8000/console/"
    assert str(settings.var_dir.resolve() / "mail") in with_site["dev mailbox"]
    bare = dict(addresses(settings, set()))
    assert "demo site" not in bare and "console" not in bare
    mailbox = dict(addresses(settings, {"/console/dev/mailbox"}))
    assert mailbox["dev mailbox"].startswith(
        "http://127.0.0.1:8000/console/dev/mailbox"
    )


def test_banner_of_this_checkout_lists_demo_site_and_console(
    settings: Settings,
) -> None:
    labels = dict(addresses(settings))
    assert "demo site" in labels and "console" in labels and "metrics" in labels


def test_every_procfile_process_is_health_checked(settings: Settings) -> None:
    root = Path(__file__).resolve().parents[2]
    lines = [
        line
        for line in (root / "Procfile").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    processes = {line.split(":", 1)[0] for line in lines}
    checked = {check.name for check in service_checks(settings)}
    assert processes - {"health"} == checked
    commands = dict(line.split(":", 1) for line in lines)
    assert "--include leads.heartbeat" in commands["worker"]
    assert "--scheduler leads.heartbeat:HeartbeatScheduler" in commands["beat"]
    assert "--no-access-log" in commands["console"]
