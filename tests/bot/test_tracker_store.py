"""The Rasa tracker store, checked inside Rasa's own environment.

The checks live in ``rasa_checks.py`` (run by ``.venv-rasa/bin/python``);
this module runs them once and turns each into a test.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.bot.conftest import RASA_PYTHON, REPO, rasa_env

CHECKS = (
    "round_trip",
    "database_holds_no_plaintext",
    "retention_expires_on_read",
    "delete_by_sender",
    "failing_save_is_reported",
    "tampered_row_is_reported",
    "refuses_an_event_broker",
    "refuses_to_run_without_a_key_ring",
    "endpoint_config_loads_the_encrypted_store",
    "fallback_store_is_detected",
    "action_answers_are_still_validated",
)

pytestmark = [pytest.mark.rasa, pytest.mark.slow]


@pytest.fixture(scope="module")
def outcomes(
    rasa_available: None, bot_var_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    work = tmp_path_factory.mktemp("rasa-checks")
    done = subprocess.run(
        [str(RASA_PYTHON), str(REPO / "tests" / "bot" / "rasa_checks.py"), str(work)],
        env=rasa_env(bot_var_dir),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    lines = [
        json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")
    ]
    found = {line["check"]: line for line in lines}
    assert found, done.stderr[-3000:]
    return found


@pytest.mark.parametrize("name", CHECKS)
def test_rasa_side_check(outcomes: dict[str, dict[str, Any]], name: str) -> None:
    assert name in outcomes, f"check {name} did not run"
    assert outcomes[name]["ok"], outcomes[name]["detail"]


def test_every_check_is_listed(outcomes: dict[str, dict[str, Any]]) -> None:
    assert set(outcomes) == set(CHECKS)
