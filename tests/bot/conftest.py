"""Fixtures for the bot: the Rasa environment, the trained model, a key ring."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_settings

REPO = Path(__file__).resolve().parents[2]
BOT_DIR = REPO / "bot"
RASA_PYTHON = REPO / ".venv-rasa" / "bin" / "python"
RASA_CLI = REPO / ".venv-rasa" / "bin" / "rasa"


def rasa_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a Rasa-side process: repo on the path, quiet TF."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LEADGUARD_")
    }
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "LOG_LEVEL": "INFO",
            "LEADGUARD_VAR_DIR": str(var_dir),
            "LEADGUARD_KEYRING_FILE": str(var_dir / "keyring.json"),
            "PYTHONWARNINGS": "ignore",
        }
    )
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def rasa_available() -> None:
    """Skip when the Rasa environment was not created (``make rasa-env``)."""
    if not RASA_CLI.exists():
        pytest.skip("the Rasa environment is missing; run 'make rasa-env'")


@pytest.fixture(scope="session")
def trained_model(rasa_available: None) -> Path:
    """The fast model, trained only if the bot's inputs changed."""
    done = subprocess.run(
        [sys.executable, str(BOT_DIR / "train_model.py")],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    model = Path(done.stdout.strip().splitlines()[-1])
    assert model.is_file()
    return model


@pytest.fixture(scope="session")
def bot_var_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A var directory with its own key ring, shared by the bot's tests."""
    var = tmp_path_factory.mktemp("bot-var")
    make_settings(var)
    yield var
