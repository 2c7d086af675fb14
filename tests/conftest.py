"""Fixtures shared by every test package.

``settings`` gives a fresh, isolated configuration (own var directory, own
key ring, own SQLite file). ``pg_url`` gives a freshly created PostgreSQL
database on the machine's real server, migrated, dropped afterwards.
``vault`` runs a test on both databases.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Keep every process started by tests away from the developer's var/.
_SESSION_VAR = Path(tempfile.mkdtemp(prefix="leadguard-test-"))
os.environ["LEADGUARD_VAR_DIR"] = str(_SESSION_VAR)
for _name in list(os.environ):
    if _name.startswith("LEADGUARD_") and _name != "LEADGUARD_VAR_DIR":
        del os.environ[_name]

from leads.keyring import new_keyring_document, write_keyring_file  # noqa: E402
from leads.migrate import upgrade  # noqa: E402
from leads.settings import Settings, load_settings  # noqa: E402
from leads.vault import Vault  # noqa: E402
from tests.pg_databases import create_pg_database, drop_pg_database  # noqa: E402


def make_settings(var_dir: Path, database_url: str | None = None) -> Settings:
    """Settings for an isolated test environment with its own key ring."""
    var_dir.mkdir(parents=True, exist_ok=True)
    keyring_file = var_dir / "keyring.json"
    if not keyring_file.exists():
        write_keyring_file(keyring_file, new_keyring_document())
    overrides: dict[str, object] = {"var_dir": var_dir, "keyring_file": keyring_file}
    if database_url:
        overrides["database_url"] = database_url
    return load_settings(**overrides)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Migrated SQLite settings in a temporary directory."""
    made = make_settings(tmp_path / "var")
    upgrade(made.database_url)
    return made


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database on the real server."""
    url = create_pg_database()
    upgrade(url)
    yield url
    drop_pg_database(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Migrated settings on SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        made = make_settings(tmp_path / "var")
        upgrade(made.database_url)
        yield made
        return
    url = create_pg_database()
    upgrade(url)
    yield make_settings(tmp_path / "var", url)
    drop_pg_database(url)


@pytest.fixture
def vault(db_settings: Settings) -> Vault:
    """An open vault on each database."""
    return Vault.from_settings(db_settings)
