"""Start a Rasa server and an action server on free loopback ports.

Shared by the bot benchmarks. Each stack gets its own var directory (key
ring, vault database, tracker database), so runs never touch ``var/``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
BOT_DIR = REPO / "bot"
RASA_CLI = REPO / ".venv-rasa" / "bin" / "rasa"
START_TIMEOUT_S = 600


@dataclass(frozen=True)
class BotStack:
    """Where the servers listen and how long Rasa took to become ready."""

    rasa_url: str
    action_url: str
    var: Path
    rasa_start_seconds: float


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare_var(var: Path) -> None:
    """Create a key ring and a migrated vault database in ``var``."""
    var.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LEADGUARD_VAR_DIR": str(var)}
    env.pop("LEADGUARD_KEYRING_FILE", None)
    env.pop("LEADGUARD_DATABASE_URL", None)
    cli = REPO / ".venv" / "bin" / "leadguard"
    if not (var / "keyring.json").exists():
        subprocess.run(
            [str(cli), "keys", "init"], env=env, check=True, capture_output=True
        )
    subprocess.run(
        [str(cli), "db", "upgrade"], env=env, check=True, capture_output=True
    )


def _env(var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADGUARD_")}
    env.update(
        {
            "LEADGUARD_VAR_DIR": str(var),
            "PYTHONPATH": str(REPO),
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "LOG_LEVEL": "INFO",
            "PYTHONWARNINGS": "ignore",
        }
    )
    return env


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not become ready")


@contextlib.contextmanager
def bot_stack(model: Path, var: Path) -> Iterator[BotStack]:
    """Run an action server and Rasa (serving ``model``) until the block ends."""
    prepare_var(var)
    action_port, rasa_port = free_port(), free_port()
    endpoints = var / "endpoints.yml"
    endpoints.write_text(
        (BOT_DIR / "endpoints.yml")
        .read_text(encoding="utf-8")
        .replace("127.0.0.1:5055", f"127.0.0.1:{action_port}"),
        encoding="utf-8",
    )
    env = _env(var)
    logs = [(var / "actions.log").open("wb"), (var / "rasa.log").open("wb")]
    actions = subprocess.Popen(
        [sys.executable, "-m", "actions.server", "--port", str(action_port)],
        env=env,
        stdout=logs[0],
        stderr=subprocess.STDOUT,
    )
    started = time.perf_counter()
    rasa = subprocess.Popen(
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
        stdout=logs[1],
        stderr=subprocess.STDOUT,
    )
    try:
        action_url = f"http://127.0.0.1:{action_port}"
        rasa_url = f"http://127.0.0.1:{rasa_port}"
        _wait(f"{action_url}/health", actions)
        _wait(f"{rasa_url}/webhooks/redacting_rest/", rasa)
        yield BotStack(rasa_url, action_url, var, time.perf_counter() - started)
    finally:
        for process in (rasa, actions):
            process.terminate()
        for process in (rasa, actions):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for handle in logs:
            handle.close()
