"""Security checks run by ``make security`` (and so by ``make test``).

Three checks, each printed with a one-line verdict:

1. **bandit** over the application code (medium severity and up). Fails the
   build on a finding.
2. **detect-secrets** over every tracked or new, not ignored, file of the
   repository, against the committed ``.secrets.baseline`` (the audited
   false positives). A secret-like string that is not in the baseline fails
   the build; the report names file, line and kind, never the value. Under
   ``tests/`` and ``bench/`` the generic detectors (high-entropy strings,
   ``password = ...`` keywords) are not applied: fixtures are full of
   synthetic keys by design. The detectors of real credential formats
   (private keys, cloud and chat tokens, JWTs, ...) still are.
3. **pip-audit** of the installed dependencies of both virtual environments
   against PyPI's vulnerability data. A known vulnerability fails the build.
   When the data cannot be reached for some or all packages, the check says
   it could NOT check them and does not fail the build: an unchecked
   package is never reported as passing.

Run ``python -m leads.security_checks --update-baseline`` after auditing a
new finding as a false positive, and commit ``.secrets.baseline``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / ".secrets.baseline"
BANDIT_TARGETS = ("leads", "actions", "nurture", "console", "bot")
BANDIT_EXCLUDES = ("bot/tests", "bot/models", "bot/.rasa")
# Rules that ruff's flake8-bandit set (S704) already enforces line by line,
# each exception carrying a written reason; bandit skips them so that one
# justification suffices.
BANDIT_SKIPS = ("B704",)
SYNTHETIC_SECRET_DIRS = ("tests/", "bench/")
GENERIC_DETECTORS = frozenset(
    {"Base64 High Entropy String", "Hex High Entropy String", "Secret Keyword"}
)
NOT_SCANNED = (".secrets.baseline",)
AUDIT_TIMEOUT_SECONDS = 300
VENVS = (ROOT / ".venv", ROOT / ".venv-rasa")


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: failed fails the build; unchecked is said."""

    name: str
    failed: bool
    summary: str


def _tool(name: str) -> str:
    """Return the path of a console script of this interpreter's venv."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def run_bandit() -> Verdict:
    """Run bandit over the application packages."""
    targets = [target for target in BANDIT_TARGETS if (ROOT / target).is_dir()]
    command = [
        sys.executable,
        "-m",
        "bandit",
        "-q",
        "-ll",
        "-r",
        *targets,
        "-x",
        ",".join(BANDIT_EXCLUDES),
        "-s",
        ",".join(BANDIT_SKIPS),
    ]
    status = subprocess.call(command, cwd=ROOT)  # noqa: S603 - fixed arguments
    if status == 0:
        return Verdict("bandit", False, f"no findings in {', '.join(targets)}")
    return Verdict("bandit", True, "findings above (fix them or justify a nosec)")


def repository_files() -> list[str]:
    """Return tracked and new, not ignored, files (relative paths)."""
    command = ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"]
    output = subprocess.run(  # noqa: S603 - fixed arguments
        command,
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    names = sorted({name for name in output.split("\0") if name})
    return [
        name for name in names if name not in NOT_SCANNED and (ROOT / name).is_file()
    ]


def _scan(files: list[str], cwd: Path = ROOT) -> dict[str, Any]:
    command = [_tool("detect-secrets"), "scan", *files]
    completed = subprocess.run(  # noqa: S603 - fixed arguments, file names
        command, cwd=cwd, capture_output=True, check=True
    )
    document: dict[str, Any] = json.loads(completed.stdout)
    return document


def _relevant(filename: str, finding: dict[str, Any]) -> bool:
    synthetic = filename.startswith(SYNTHETIC_SECRET_DIRS)
    return not (synthetic and finding.get("type") in GENERIC_DETECTORS)


def _keys(results: dict[str, list[dict[str, Any]]]) -> set[tuple[str, str, str]]:
    return {
        (filename, str(finding["type"]), str(finding["hashed_secret"]))
        for filename, findings in results.items()
        for finding in findings
        if _relevant(filename, finding)
    }


def new_findings(scanned: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    """Return ``file:line kind`` of each scanned finding not in the baseline.

    Findings match on file, kind and the secret's hash (not the line, which
    moves with edits). The secret itself is never part of the result.
    """
    known = _keys(baseline.get("results", {}))
    found = []
    for filename, findings in scanned.get("results", {}).items():
        for finding in findings:
            key = (filename, str(finding["type"]), str(finding["hashed_secret"]))
            if _relevant(filename, finding) and key not in known:
                found.append(f"{filename}:{finding['line_number']} {finding['type']}")
    return sorted(found)


def run_secret_scan() -> Verdict:
    """Compare a fresh detect-secrets scan with the committed baseline."""
    scanned = _scan(repository_files())
    try:
        baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Verdict("detect-secrets", True, f"cannot read {BASELINE.name}")
    new = new_findings(scanned, baseline)
    for line in new:
        print(f"  possible secret: {line}")
    if new:
        return Verdict(
            "detect-secrets",
            True,
            f"{len(new)} secret-like string(s) not in {BASELINE.name}; remove "
            "them, or audit as false positive and run "
            "`python -m leads.security_checks --update-baseline`",
        )
    known = len(_keys(baseline.get("results", {})))
    return Verdict(
        "detect-secrets",
        False,
        f"no new secrets in {len(repository_files())} files "
        f"({known} audited false positives)",
    )


def update_baseline() -> int:
    """Rewrite ``.secrets.baseline`` from a fresh scan; return its size."""
    scanned = _scan(repository_files())
    scanned["results"] = {
        filename: kept
        for filename, findings in scanned.get("results", {}).items()
        if (kept := [item for item in findings if _relevant(filename, item)])
    }
    scanned.pop("generated_at", None)
    BASELINE.write_text(json.dumps(scanned, indent=2) + "\n", encoding="utf-8")
    return sum(len(findings) for findings in scanned["results"].values())


def _site_packages(venv: Path) -> list[Path]:
    return sorted(venv.glob("lib/python3*/site-packages"))


def _audit_venv(venv: Path) -> tuple[int, list[str], list[str]]:
    """Audit one venv: (audited count, vulnerability lines, unchecked names)."""
    command = [
        _tool("pip-audit"),
        "--format",
        "json",
        "--progress-spinner",
        "off",
        "--skip-editable",
    ]
    for path in _site_packages(venv):
        command += ["--path", str(path)]
    try:
        completed = subprocess.run(  # noqa: S603 - fixed arguments
            command,
            cwd=ROOT,
            capture_output=True,
            timeout=AUDIT_TIMEOUT_SECONDS,
            check=False,
        )
        report = json.loads(completed.stdout or b"{}")
    except (subprocess.TimeoutExpired, ValueError, OSError):
        report = {}
    return summarize_audit(report)


def summarize_audit(report: dict[str, Any]) -> tuple[int, list[str], list[str]]:
    """Read a pip-audit JSON report: (audited, vulnerabilities, unchecked).

    A dependency pip-audit skipped (not found on the index, no data, the
    service unreachable) is *unchecked*, whatever pip-audit's exit status or
    its "No known vulnerabilities found" line says. Editable installs (the
    project itself) are neither.
    """
    dependencies = report.get("dependencies", [])
    if not dependencies:
        return 0, [], ["(the whole environment: pip-audit gave no report)"]
    audited = 0
    vulnerable: list[str] = []
    unchecked: list[str] = []
    for dependency in dependencies:
        name = str(dependency.get("name"))
        if "version" in dependency:
            name += f"=={dependency['version']}"
        if "skip_reason" in dependency:
            if "editable" not in str(dependency["skip_reason"]):
                unchecked.append(name)
            continue
        audited += 1
        for vuln in dependency.get("vulns", []):
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            vulnerable.append(f"{name} {vuln.get('id')} (fixed in: {fixes})")
    return audited, vulnerable, unchecked


def audit_verdict(audited: int, vulnerable: list[str], unchecked: list[str]) -> Verdict:
    """Turn audit counts into a verdict; unchecked is never called a pass."""
    for line in vulnerable:
        print(f"  vulnerable: {line}")
    if vulnerable:
        return Verdict("pip-audit", True, f"{len(vulnerable)} known vulnerabilities")
    if unchecked:
        shown = ", ".join(unchecked[:6]) + (" ..." if len(unchecked) > 6 else "")
        return Verdict(
            "pip-audit",
            False,
            f"COULD NOT CHECK {len(unchecked)} dependencies (no vulnerability "
            f"data reachable for them: {shown}); {audited} checked without "
            "findings. This is not a pass for the unchecked ones.",
        )
    return Verdict("pip-audit", False, f"{audited} dependencies, no known vulns")


def run_dependency_audit() -> Verdict:
    """Run pip-audit on each existing venv."""
    audited = 0
    vulnerable: list[str] = []
    unchecked: list[str] = []
    for venv in (venv for venv in VENVS if _site_packages(venv)):
        count, found, missing = _audit_venv(venv)
        audited += count
        vulnerable += [f"{venv.name}: {line}" for line in found]
        unchecked += [f"{venv.name}: {name}" for name in missing]
    if not audited and not unchecked:
        unchecked = ["(no virtual environment found)"]
    return audit_verdict(audited, vulnerable, unchecked)


def main(argv: list[str] | None = None) -> int:
    """Run every check; return 1 when any of them failed."""
    arguments = sys.argv[1:] if argv is None else argv
    if arguments == ["--update-baseline"]:
        count = update_baseline()
        print(f"{BASELINE.name}: {count} audited finding(s) written")
        return 0
    verdicts = [run_bandit(), run_secret_scan(), run_dependency_audit()]
    for verdict in verdicts:
        word = "FAIL" if verdict.failed else "ok  "
        print(f"security {word} {verdict.name}: {verdict.summary}")
    return 1 if any(verdict.failed for verdict in verdicts) else 0


if __name__ == "__main__":
    raise SystemExit(main())
