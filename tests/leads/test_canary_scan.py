"""Plant unique markers through an import, then search the raw stores."""

import logging
from pathlib import Path

import pytest

from leads.importer import import_leads
from leads.settings import Settings
from leads.vault import Vault
from tests.leads.canaries import as_lines, canary_record, hits_in_files, pg_dump_bytes


def _import_canaries(vault: Vault, count: int = 25) -> list[str]:
    records, markers = [], []
    for number in range(count):
        record, planted = canary_record(number)
        records.append(record)
        markers += planted
    report = import_leads(vault, as_lines(records))
    assert report.created == count and not report.rejected
    return markers


def test_no_marker_in_the_sqlite_files_or_logs(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    vault = Vault.from_settings(settings)
    markers = _import_canaries(vault)
    with vault.sessions() as session:
        lead_id = vault.find_lead_id(session, markers[1])
        assert lead_id is not None
        vault.export_subject(session, lead_id)
    db_file = Path(settings.database_url.split("///", 1)[1])
    files = [db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm")]
    assert db_file.stat().st_size > 0
    assert hits_in_files(files, markers) == []
    assert [m for m in markers if m in caplog.text] == []


@pytest.mark.postgres
def test_no_marker_in_a_pg_dump(pg_url: str, tmp_path: Path) -> None:
    from tests.conftest import make_settings

    vault = Vault.from_settings(make_settings(tmp_path / "var", pg_url))
    markers = _import_canaries(vault)
    dump = pg_dump_bytes(pg_url)
    assert b"lead_personal" in dump
    found = [m for m in markers if m.encode() in dump or m.lower().encode() in dump]
    assert found == []


def test_key_material_never_logged(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    import json

    caplog.set_level(logging.DEBUG)
    vault = Vault.from_settings(settings)
    _import_canaries(vault, count=3)
    assert settings.keyring_file is not None
    ring = json.loads(settings.keyring_file.read_text())
    secrets_in_ring = [*ring["keks"].values(), ring["root"]]
    assert caplog.text
    assert [s for s in secrets_in_ring if s in caplog.text] == []
    assert all(s not in repr(vault) for s in secrets_in_ring)
