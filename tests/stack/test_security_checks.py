"""Security checks: the secret scan catches plants; the audit never lies."""

from __future__ import annotations

import json
from pathlib import Path

from leads import security_checks
from leads.security_checks import audit_verdict, new_findings, summarize_audit

# Split so that this file itself holds no secret-looking literal.
AWS_KEY = "AKIA" + "QYLPMN5HHHFPZAM2"
HEX_KEY = "9f86d081884c7d659a2feaa0c55ad015" + "a3bf4f1b2b0b822cd15d6c15b0f00a08"


def scan(tmp_path: Path, relative: str, text: str) -> dict[str, object]:
    target = tmp_path / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return security_checks._scan([relative], cwd=tmp_path)


def test_a_planted_credential_is_a_new_finding(tmp_path: Path) -> None:
    scanned = scan(tmp_path, "leads/settings_local.py", f'KEY = "{AWS_KEY}"\n')
    found = new_findings(scanned, {"results": {}})
    assert found and found[0].startswith("leads/settings_local.py:1 ")
    assert AWS_KEY not in " ".join(found)


def test_a_finding_in_the_baseline_is_not_new_even_if_it_moved(
    tmp_path: Path,
) -> None:
    first = scan(tmp_path, "leads/a.py", f'KEY = "{AWS_KEY}"\n')
    moved = scan(tmp_path, "leads/a.py", f'\n\n\nKEY = "{AWS_KEY}"\n')
    assert new_findings(moved, first) == []


def test_real_credential_formats_are_caught_in_tests_too(tmp_path: Path) -> None:
    scanned = scan(
        tmp_path, "tests/test_x.py", f'AWS = "{AWS_KEY}"\nHEX = "{HEX_KEY}"\n'
    )
    found = new_findings(scanned, {"results": {}})
    assert any("AWS" in line for line in found)
    assert not any("Hex High Entropy" in line for line in found)


def test_the_committed_baseline_is_valid() -> None:
    baseline = json.loads(security_checks.BASELINE.read_text())
    assert baseline["version"]
    assert isinstance(baseline["results"], dict)


SKIPPED = {
    "dependencies": [
        {"name": "jinja2", "skip_reason": "Dependency not found on PyPI"},
        {"name": "celery", "skip_reason": "Dependency not found on PyPI"},
        {"name": "leadguard", "skip_reason": "distribution marked as editable"},
    ],
    "fixes": [],
}


def test_skipped_dependencies_are_reported_as_unchecked() -> None:
    audited, vulnerable, unchecked = summarize_audit(SKIPPED)
    assert (audited, vulnerable, unchecked) == (0, [], ["jinja2", "celery"])
    verdict = audit_verdict(audited, vulnerable, unchecked)
    assert not verdict.failed
    assert verdict.summary.startswith("COULD NOT CHECK 2 dependencies")
    assert "no known vulns" not in verdict.summary


def test_no_report_at_all_is_unchecked() -> None:
    audited, vulnerable, unchecked = summarize_audit({})
    assert audited == 0 and unchecked
    assert "COULD NOT CHECK" in audit_verdict(audited, vulnerable, unchecked).summary


def test_a_known_vulnerability_fails_the_build() -> None:
    report = {
        "dependencies": [
            {
                "name": "jinja2",
                "version": "2.10",
                "vulns": [{"id": "PYSEC-2019-217", "fix_versions": ["2.10.1"]}],
            },
            {"name": "click", "version": "8.5.1", "vulns": []},
        ]
    }
    audited, vulnerable, unchecked = summarize_audit(report)
    assert audited == 2 and unchecked == []
    verdict = audit_verdict(audited, vulnerable, unchecked)
    assert verdict.failed
    assert vulnerable == ["jinja2==2.10 PYSEC-2019-217 (fixed in: 2.10.1)"]


def test_only_a_full_audit_reports_a_pass() -> None:
    report = {"dependencies": [{"name": "click", "version": "8.5.1", "vulns": []}]}
    verdict = audit_verdict(*summarize_audit(report))
    assert not verdict.failed
    assert verdict.summary == "1 dependencies, no known vulns"
