"""Console timings: password hashing, sign-in, queue, reveal and export.

Seeds ``--background`` synthetic qualified leads in bulk (bench/vault_common)
so the queue query runs against a realistic table, plus ``--leads`` real
leads captured through the vault (readable, for reveal and export). Drives
the application in process (Starlette test client, no network) and prints
JSON: argon2id hash and verify times, a full TOTP sign-in, the queue page,
a reveal, and an export of every real lead (one audit event per lead).

``python -m bench.console_pages [--background 100000] [--leads 1000]
[--database sqlite|postgres]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text, update
from starlette.exceptions import StarletteDeprecationWarning

from bench.vault_common import (
    bench_settings,
    create_database,
    drop_database,
    seed_leads,
    stderr_progress,
    summary_ms,
)
from console.access import Role
from console.app import create_app
from console.passwords import hash_password, verify_password
from leads.consent import ConsentAnswer
from leads.models import Lead, Purpose
from leads.vault import LeadInput, Vault
from tests.console.conftest import csrf_from, make_staff, sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient


def _timed(action: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def _capture(vault: Vault, count: int, owner: uuid.UUID) -> list[uuid.UUID]:
    ids = []
    with vault.sessions.begin() as session:
        for number in range(count):
            result = vault.capture_lead(
                session,
                LeadInput(
                    name=f"Real Lead {number}",
                    email=f"real{number}@customer.example",
                    company="Kopi Digital Sdn Bhd",
                    job_title="Head of Operations",
                    need="=A chat assistant",
                    phone="+60 12-345 6789",
                ),
                score=95,
                tier="hot",
                source="bench",
                consents=[ConsentAnswer(Purpose.SALES_CONTACT, True, "1", "chat")],
            )
            ids.append(result.lead_id)
        session.execute(
            update(Lead).where(Lead.source == "bench").values(owner_id=owner)
        )
    return ids


def run(background: int, leads: int, database: str) -> dict[str, object]:
    """Run the measurements and return the figures."""
    workdir = Path(tempfile.mkdtemp(prefix="lgbench-console-"))
    url = create_database() if database == "postgres" else None
    try:
        settings = bench_settings(workdir, url)
        vault = Vault.from_settings(settings)
        seed_leads(
            settings,
            vault.keyring,
            background,
            progress=stderr_progress("background leads", background),
        )
        engine = create_engine(settings.database_url)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE leads SET qualified_at = created_at, tier = 'warm', "
                    "score = 40 WHERE qualified_at IS NULL"
                )
            )
        engine.dispose()

        password = "a long passphrase for the benchmark " * 2
        stored = hash_password(password)
        hashing = _timed(lambda: hash_password(password), 5)
        verifying = _timed(lambda: verify_password(stored, password), 5)

        sales = make_staff(vault, settings, Role.SALES, "bench-sales@team.example")
        manager = make_staff(vault, settings, Role.MANAGER, "bench-mgr@team.example")
        real = _capture(vault, leads, sales.user_id)
        app = create_app(settings)

        client = TestClient(app)
        started = time.perf_counter()
        sign_in(client, sales)
        signing_in = time.perf_counter() - started
        queue = _timed(lambda: client.get("/console/queue?scope=all"), 20)
        page = f"/console/leads/{real[0]}"
        token = csrf_from(client.get(page).text)
        reveal = _timed(
            lambda: client.post(
                f"{page}/reveal", data={"reason": "call_back", "csrf_token": token}
            ),
            10,
        )

        boss = TestClient(app)
        sign_in(boss, manager)
        token = csrf_from(boss.get("/console/export").text)
        started = time.perf_counter()
        exported = boss.post(
            "/console/export", data={"csrf_token": token, "tier": "hot"}
        )
        export_seconds = time.perf_counter() - started
        rows = exported.text.count("\n") - 1
        return {
            "database": database,
            "background_leads": background,
            "real_leads": leads,
            "argon2id_hash": summary_ms(hashing),
            "argon2id_verify": summary_ms(verifying),
            "sign_in_password_and_totp_ms": round(signing_in * 1000, 1),
            "queue_page": summary_ms(queue),
            "reveal": summary_ms(reveal),
            "export": {
                "rows": rows,
                "seconds": round(export_seconds, 3),
                "rows_per_second": round(rows / export_seconds, 1),
            },
        }
    finally:
        if url:
            drop_database(url)


def main() -> None:
    """Parse the options, run, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--background", type=int, default=100_000)
    parser.add_argument("--leads", type=int, default=1000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    options = parser.parse_args()
    figures = run(options.background, options.leads, options.database)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
