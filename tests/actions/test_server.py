"""The action server: loopback only, every action registered, generic errors."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from leads.migrate import upgrade
from tests.conftest import make_settings

SECRET = "canary.server@acme-example.com.my"
EXPECTED_ACTIONS = {
    "action_introduce",
    "action_privacy_info",
    "action_ask_consent_sales",
    "action_ask_consent_email",
    "validate_consent_form",
    "action_consent_outcome",
    "validate_lead_form",
    "action_ask_name",
    "action_ask_email",
    "action_ask_company",
    "action_ask_job_title",
    "action_ask_company_size",
    "action_ask_need",
    "action_ask_timeline",
    "action_ask_budget",
    "action_ask_phone",
    "action_explain_field",
    "action_handle_skip",
    "action_stop_form",
    "action_submit_lead",
    "action_request_human",
    "action_request_erasure",
    "action_sensitive_notice",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    var = tmp_path_factory.mktemp("actions-var")
    upgrade(make_settings(var).database_url)
    port = free_port()
    log = var / "actions.log"
    env = {**os.environ, "LEADGUARD_VAR_DIR": str(var)}
    with log.open("w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "actions.server", "--port", str(port)],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.25)
        else:
            pytest.fail("the action server did not start: " + log.read_text()[-2000:])
        yield url, log
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_every_domain_action_is_registered(server: tuple[str, Path]) -> None:
    url, _log = server
    names = {item["name"] for item in httpx.get(f"{url}/actions").json()}
    assert names >= EXPECTED_ACTIONS


def test_it_listens_on_loopback_only(server: tuple[str, Path]) -> None:
    url, log = server
    port = int(url.rsplit(":", 1)[1])
    assert "host=127.0.0.1" in log.read_text()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as route:
        try:
            route.connect(("10.255.255.255", 1))
        except OSError:
            pytest.skip("no network route to find a non-loopback address")
        outside = route.getsockname()[0]
    if outside.startswith(("127.", "0.")):
        pytest.skip("no non-loopback address to probe")
    with socket.socket() as probe:
        probe.settimeout(1)
        assert probe.connect_ex((outside, port)) != 0


def test_a_crash_answers_a_generic_error_without_the_request(
    server: tuple[str, Path],
) -> None:
    url, log = server
    body = {
        "next_action": "action_submit_lead",
        "sender_id": "x",
        "tracker": f"not a tracker {SECRET}",
        "domain": {},
    }
    answer = httpx.post(f"{url}/webhook", json=body)
    assert answer.status_code == 500
    assert answer.json() == {"error": "the action failed"}
    assert SECRET not in answer.text
    time.sleep(0.2)
    assert SECRET not in log.read_text()


def test_a_bad_request_is_not_echoed(server: tuple[str, Path]) -> None:
    url, log = server
    answer = httpx.post(
        f"{url}/webhook",
        content=f"garbage {SECRET}",
        headers={"content-type": "application/json"},
    )
    assert answer.status_code >= 400
    assert SECRET not in answer.text
    assert SECRET not in log.read_text()


def test_invalid_scoring_rules_stop_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from actions import server
    from leads.scoring import load_rules

    broken = tmp_path / "scoring.yml"
    broken.write_text("version: 1\npoints:\n  company_size: {}\n", encoding="utf-8")
    monkeypatch.setattr(server, "default_rules", lambda: load_rules(broken))
    with pytest.raises(SystemExit, match=r"scoring.yml:3: 'company_size'"):
        server.check_start_up()
