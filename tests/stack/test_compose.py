"""The production compose file, as docker compose itself resolves it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SECRET_WORDS = ("PASSWORD", "TOKEN", "SECRET", "KEYRING", "DATABASE_URL", "BROKER_URL")


def compose_command() -> list[str]:
    """`docker compose` when the plugin exists, else docker-compose."""
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy:
        return [legacy]
    pytest.skip("neither `docker compose` nor docker-compose is installed")


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    completed = subprocess.run(
        [*compose_command(), "-f", "docker-compose.yml", "config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    document: dict[str, Any] = yaml.safe_load(completed.stdout)
    return document


def test_every_part_of_the_stack_is_there(config: dict[str, Any]) -> None:
    assert set(config["services"]) >= {
        "proxy",
        "console",
        "rasa",
        "actions",
        "worker",
        "beat",
        "postgres",
        "redis",
    }


def test_only_the_proxy_publishes_ports(config: dict[str, Any]) -> None:
    publishing = {
        name for name, service in config["services"].items() if service.get("ports")
    }
    assert publishing == {"proxy"}
    shared = {
        name: service["network_mode"]
        for name, service in config["services"].items()
        if service.get("network_mode")
    }
    # the loopback-only action server lives in Rasa's network namespace
    assert shared == {"actions": "service:rasa"}


def test_everything_but_the_proxy_and_worker_is_internal_only(
    config: dict[str, Any],
) -> None:
    assert config["networks"]["internal"]["internal"] is True
    for name, service in config["services"].items():
        networks = set(service.get("networks") or {})
        if name == "actions":
            assert not networks
        elif name == "proxy":
            assert networks == {"edge", "internal"}
        elif name == "worker":
            assert networks == {"internal", "egress"}
        else:
            assert networks == {"internal"}, name


def test_the_worker_egress_network_publishes_nothing(config: dict[str, Any]) -> None:
    on_egress = {
        name
        for name, service in config["services"].items()
        if "egress" in (service.get("networks") or {})
    }
    assert on_egress == {"worker"}


def test_secrets_are_files_not_values(config: dict[str, Any]) -> None:
    assert config["secrets"]
    for name, secret in config["secrets"].items():
        assert set(secret) == {"file"}, name
        assert "/deploy/secrets/" in secret["file"], name
    for name, service in config["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if any(word in key for word in SECRET_WORDS):
                assert str(value).startswith("/run/secrets/"), (name, key)


def test_the_image_build_context_leaves_secrets_and_state_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for path in ("deploy/secrets", "var", ".venv", ".venv-rasa", ".git"):
        assert path in ignored


def test_secret_files_are_ignored_by_git() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "deploy/secrets/postgres_password"],
        cwd=ROOT,
        check=False,
    )
    assert ignored.returncode == 0


def test_long_running_services_have_health_checks(config: dict[str, Any]) -> None:
    for name, service in config["services"].items():
        if name == "migrate":
            assert service["restart"] == "no"
            continue
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), name


def test_workers_prove_life_with_their_own_heartbeat(config: dict[str, Any]) -> None:
    for name in ("worker", "beat"):
        service = config["services"][name]
        assert service["healthcheck"]["test"][1:4] == ["leadguard", "dev", "heartbeat"]
        # tmpfs of the container itself, so no replica vouches for another
        heartbeats = service["environment"]["LEADGUARD_HEARTBEAT_DIR"]
        assert heartbeats == "/tmp/heartbeats"  # noqa: S108 - a tmpfs
    worker = config["services"]["worker"]["command"]
    assert "--include=leads.heartbeat,leads.task_context" in worker
    beat = config["services"]["beat"]["command"]
    assert "--scheduler=leads.heartbeat:HeartbeatScheduler" in beat


def test_rasa_runs_the_official_image_with_the_bot(config: dict[str, Any]) -> None:
    rasa = config["services"]["rasa"]
    assert rasa["image"] == "rasa/rasa:3.6.21"
    targets = {
        volume["target"] if isinstance(volume, dict) else volume.split(":")[1]
        for volume in rasa["volumes"]
    }
    assert "/app/bot" in targets
    assert rasa["environment"]["PYTHONPATH"] == "/app"
    endpoints = yaml.safe_load((ROOT / "deploy/rasa/endpoints.yml").read_text())
    assert (
        endpoints["tracker_store"]["type"]
        == "bot.tracker_store.EncryptedSQLTrackerStore"
    )
    assert endpoints["lock_store"]["type"] == "redis"
    assert "event_broker" not in endpoints
    assert rasa["environment"]["LEADGUARD_ACTION_ENDPOINT_URL"].startswith(
        "http://127.0.0.1:5055/"
    )
    assert (ROOT / "bot/tracker_store.py").is_file()


def test_proxy_speaks_tls12_or_newer_to_the_console_only() -> None:
    caddyfile = (ROOT / "deploy/caddy/Caddyfile").read_text()
    lines = [line.strip() for line in caddyfile.splitlines()]
    assert "protocols tls1.2 tls1.3" in lines
    upstreams = [line for line in lines if line.startswith("reverse_proxy")]
    assert upstreams == ["reverse_proxy console:8000 {"]
    assert "respond @internal 404" in lines
    assert "@internal path /metrics /metrics/*" in lines


def test_console_trusts_forwarded_headers_from_the_proxy_only(
    config: dict[str, Any],
) -> None:
    proxy_ip = config["services"]["proxy"]["networks"]["internal"]["ipv4_address"]
    command = config["services"]["console"]["command"]
    assert f"--forwarded-allow-ips={proxy_ip}" in command
    assert "--no-access-log" in command
