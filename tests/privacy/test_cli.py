"""``leadguard retention``, ``privacy`` and ``incident`` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


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


@pytest.fixture(scope="module")
def var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    var = tmp_path_factory.mktemp("privacy-cli") / "var"
    assert run(var, "keys", "init").returncode == 0
    assert run(var, "db", "upgrade").returncode == 0
    assert run(var, "demo", "seed", "--leads", "3").returncode == 0
    return var


def test_retention_dry_run_lists_each_kind(var: Path) -> None:
    result = run(var, "retention", "run", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    kinds = [item["kind"] for item in json.loads(result.stdout)["items"]]
    assert kinds == ["unqualified_leads", "transcripts", "email_records", "audit_log"]
    text = run(var, "retention", "run", "--dry-run").stdout
    assert "unqualified_leads: 0 past" in text and "would remove 0" in text


def test_privacy_records_renders_markdown(var: Path, tmp_path: Path) -> None:
    out = tmp_path / "records.md"
    result = run(var, "privacy", "records", "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_text().startswith("# Record of processing activities")


def test_incident_report_and_bad_time(var: Path) -> None:
    run(var, "subject", "export", "--email", "demo7-1@example.com")
    result = run(var, "incident", "report", "--since", "2020-01-01T00:00Z", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["events"] >= 1 and len(summary["subjects"]) == 1
    assert "demo7-1@example.com" not in result.stdout
    bad = run(var, "incident", "report", "--since", "yesterday")
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr


def test_subject_erase_twice_then_audit_verifies(var: Path) -> None:
    first = run(var, "subject", "erase", "--email", "demo7-2@example.com")
    assert first.returncode == 0, first.stderr
    assert "erased subject" in first.stdout and "leads=1" in first.stdout
    again = run(var, "subject", "erase", "--email", "demo7-2@example.com")
    assert again.returncode == 0, again.stderr
    assert "suppressed" in again.stdout
    assert (
        run(var, "privacy", "resume")
        .stdout.strip()
        .endswith("0 unfinished erasures completed")
    )
    verified = run(var, "audit", "verify")
    assert verified.returncode == 0 and "intact" in verified.stdout


def test_subject_export_writes_a_private_html_page(var: Path, tmp_path: Path) -> None:
    page = tmp_path / "subject.html"
    result = run(
        var, "subject", "export", "--email", "demo7-0@example.com", "--html", str(page)
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["fields"]["email"] == "demo7-0@example.com"
    assert "demo7-0@example.com" in page.read_text()
    assert page.stat().st_mode & 0o077 == 0
