"""The command line as a user runs it: real processes, real files."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

CONSENT = [
    {
        "purpose": "sales_contact",
        "granted": True,
        "notice_version": "1",
        "recorded_at": "2026-11-01T09:00:00+08:00",
    }
]


def run(var: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADGUARD_")}
    env["LEADGUARD_VAR_DIR"] = str(var)
    return subprocess.run(
        [sys.executable, "-c", "from leads.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def var(tmp_path: Path) -> Path:
    var = tmp_path / "var"
    assert run(var, "keys", "init").returncode == 0
    assert run(var, "db", "upgrade").returncode == 0
    return var


def test_missing_key_ring_stops_with_one_clear_line(tmp_path: Path) -> None:
    result = run(tmp_path / "empty", "keys", "status")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "leadguard keys init" in result.stderr
    assert "Traceback" not in result.stderr


def test_keys_init_refuses_to_overwrite(var: Path) -> None:
    before = (var / "keyring.json").read_bytes()
    result = run(var, "keys", "init")
    assert result.returncode == 2 and "refusing to overwrite" in result.stderr
    assert (var / "keyring.json").read_bytes() == before


def test_import_export_erase_round(var: Path) -> None:
    lines = [
        json.dumps(
            {
                "name": "Ana Tan",
                "email": "ana@acme.com.my",
                "company": "Acme",
                "job_title": "CTO",
                "consents": CONSENT,
            }
        ),
        json.dumps(
            {"name": "No", "email": "nc@acme.com.my", "company": "A", "job_title": "B"}
        ),
    ]
    source = var / "leads.jsonl"
    source.write_text("\n".join(lines) + "\n")
    imported = run(var, "leads", "import", str(source))
    assert imported.returncode == 1
    assert "rejected line 2: no consent evidence" in imported.stderr
    assert "imported: 1 new, 0 updated, 1 rejected" in imported.stdout

    exported = run(var, "subject", "export", "--email", "ANA@acme.com.my")
    assert exported.returncode == 0
    assert json.loads(exported.stdout)["fields"]["name"] == "Ana Tan"

    erased = run(var, "subject", "erase", "--email", "ana@acme.com.my")
    assert erased.returncode == 0, erased.stderr
    after = run(var, "subject", "export", "--email", "ana@acme.com.my")
    assert after.returncode == 2 and "no subject" in after.stderr
    assert "Ana Tan" not in after.stdout + after.stderr
    verified = run(var, "audit", "verify")
    assert verified.returncode == 0 and "intact" in verified.stdout


def test_audit_verify_names_the_first_bad_event(var: Path) -> None:
    run(var, "demo", "seed", "--leads", "4")
    with sqlite3.connect(var / "leadguard.db") as connection:
        connection.execute("UPDATE audit_events SET action = 'x' WHERE id = 3")
    result = run(var, "audit", "verify")
    assert result.returncode == 2
    assert "broken at event 3" in result.stderr


def test_rotation_rewraps_and_status_reports(var: Path) -> None:
    run(var, "demo", "seed", "--leads", "5")
    rotated = run(var, "keys", "rotate", "--batch-size", "2")
    assert rotated.returncode == 0, rotated.stderr
    assert "active key version 2; 5 data keys re-wrapped" in rotated.stdout
    status = run(var, "keys", "status").stdout
    assert "version 1: 0 data keys" in status and "version 2: 5 data keys" in status
    exported = run(var, "subject", "export", "--email", "demo7-0@example.com")
    assert exported.returncode == 0


def test_erase_by_lead_id_for_replaying_after_a_restore(var: Path) -> None:
    run(var, "demo", "seed", "--leads", "2")
    exported = run(var, "subject", "export", "--email", "demo7-1@example.com")
    lead_id = json.loads(exported.stdout)["lead_id"]
    erased = run(var, "subject", "erase", "--lead-id", lead_id)
    assert erased.returncode == 0, erased.stderr
    assert lead_id in erased.stdout
    gone = run(var, "subject", "export", "--email", "demo7-1@example.com")
    assert gone.returncode == 2
    both = run(var, "subject", "erase", "--lead-id", lead_id, "--email", "a@b.my")
    assert both.returncode == 2 and "exactly one" in both.stderr
