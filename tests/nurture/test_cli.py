"""``leadguard nurture preview|status|tick`` as a user runs them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from leads.migrate import upgrade
from leads.vault import Vault
from tests.conftest import make_settings
from tests.nurture.conftest import add_lead

LEADGUARD = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "leadguard"

pytestmark = pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy")


def _run(var_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADGUARD_")}
    env["LEADGUARD_VAR_DIR"] = str(var_dir)
    return subprocess.run(
        [str(LEADGUARD), "nurture", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_preview_status_tick(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    settings = make_settings(var_dir)
    upgrade(settings.database_url)
    lead_id = add_lead(Vault.from_settings(settings), name="Nadia {{ 7*7 }} Rahman")

    preview = _run(var_dir, "preview", "welcome", "--lead", str(lead_id))
    assert preview.returncode == 0, preview.stderr
    assert "Subject: Thanks for your interest, Nadia" in preview.stdout
    assert "=== welcome / check-in" in preview.stdout
    assert "/unsubscribe/" in preview.stdout

    tick = _run(var_dir, "tick")
    assert tick.returncode == 0, tick.stderr
    assert "enrolled 1" in tick.stdout

    status = _run(var_dir, "status")
    assert status.returncode == 0, status.stderr
    assert "active" in status.stdout and "1" in status.stdout


def test_unknown_sequence_is_one_line_error(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    upgrade(make_settings(var_dir).database_url)
    result = _run(var_dir, "preview", "nope", "--lead", "not-a-uuid")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("error:")
