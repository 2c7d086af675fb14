"""``leadguard users`` and the first admin of ``make run``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from console.models import ConsoleUser
from leads.settings import Settings
from leads.vault import Vault

LEADGUARD = str(Path(sys.executable).parent / "leadguard")


def _run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LEADGUARD_")
    }
    env.update(
        LEADGUARD_VAR_DIR=str(settings.var_dir),
        LEADGUARD_KEYRING_FILE=str(settings.keyring_file),
        LEADGUARD_DATABASE_URL=settings.database_url,
        LEADGUARD_LOG_LEVEL="WARNING",
    )
    return subprocess.run(
        [LEADGUARD, *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_users_add_prints_a_setup_link(settings: Settings) -> None:
    done = _run(
        settings, "users", "add", "--email", "rep@team.example", "--role", "sales"
    )
    assert done.returncode == 0, done.stderr
    assert f"{settings.public_base_url}/console/setup/" in done.stdout
    again = _run(
        settings, "users", "add", "--email", "REP@team.example", "--role", "sales"
    )
    assert again.returncode == 2
    assert "already has an account" in again.stderr
    wrong = _run(
        settings, "users", "add", "--email", "x@team.example", "--role", "boss"
    )
    assert wrong.returncode == 2


def test_first_admin_is_created_once(settings: Settings) -> None:
    first = _run(settings, "users", "ensure-first-admin")
    assert first.returncode == 0, first.stderr
    assert "/console/setup/" in first.stdout
    second = _run(settings, "dev", "first-start")
    assert second.returncode == 0, second.stderr
    assert "/console/setup/" not in second.stdout
    with Vault.from_settings(settings).sessions() as session:
        admins = session.scalar(
            select(func.count())
            .select_from(ConsoleUser)
            .where(ConsoleUser.role == "admin")
        )
    assert admins == 1


def test_reset_prints_a_new_link(settings: Settings) -> None:
    _run(settings, "users", "add", "--email", "lost@team.example", "--role", "manager")
    done = _run(settings, "users", "reset", "--email", "lost@team.example")
    assert done.returncode == 0, done.stderr
    assert "/console/setup/" in done.stdout
    missing = _run(settings, "users", "reset", "--email", "ghost@team.example")
    assert missing.returncode != 0
