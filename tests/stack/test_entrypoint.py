"""deploy/entrypoint.sh: secret files become variables, metrics get a dir."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
SHOW = 'printf "%s|%s|%s\\n" "$LEADGUARD_DATABASE_URL" "${LEADGUARD_KEYRING-unset}" '
SHOW += '"$PROMETHEUS_MULTIPROC_DIR"'


def test_secret_files_become_variables_and_metrics_a_directory(
    tmp_path: Path,
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "leadguard_database_url").write_text("postgresql://u:p@db/x\n")
    (secrets / "leadguard_keyring").write_text('{"keks": {}}')
    (secrets / "postgres_password").write_text("not-for-the-app")
    stale = tmp_path / "metrics" / "console-1"
    stale.mkdir(parents=True)
    (stale / "counter_7.db").write_bytes(b"old")
    environment = {
        "PATH": os.environ["PATH"],
        "HOSTNAME": "console-1",
        "LEADGUARD_SECRETS_DIR": str(secrets),
        "LEADGUARD_METRICS_ROOT": str(tmp_path / "metrics"),
    }
    completed = subprocess.run(
        ["/bin/sh", str(ENTRYPOINT), "/bin/sh", "-c", SHOW + "; env"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    shown, _, listing = completed.stdout.partition("\n")
    database_url, keyring, metrics_dir = shown.split("|")
    assert database_url == "postgresql://u:p@db/x"
    assert keyring == "unset"  # the key ring stays a file
    assert metrics_dir.endswith("metrics/console-1")
    assert Path(metrics_dir).is_dir() and not list(Path(metrics_dir).iterdir())
    assert "LEADGUARD_DATABASE_URL=" in listing
    assert "not-for-the-app" not in listing
