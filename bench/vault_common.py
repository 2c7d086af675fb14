"""Shared set-up for benchmarks: throwaway databases and fast bulk seeding.

``seed_leads`` writes N synthetic leads straight into the vault's tables with
PostgreSQL COPY (or executemany on SQLite): real blind indexes and real data
keys wrapped under the active KEK (so rotation and erasure do real work),
and sealed personal fields of realistic size. It bypasses the vault's
per-lead transaction only to make a million rows take a minute, not hours.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import create_engine

from leads.blind_index import INDEX_PURPOSE
from leads.keyring import KeyRing, new_keyring_document, write_keyring_file
from leads.migrate import upgrade
from leads.settings import Settings, load_settings
from tests.pg_databases import create_pg_database as create_database
from tests.pg_databases import drop_pg_database as drop_database

__all__ = [
    "bench_settings",
    "create_database",
    "drop_database",
    "seed_leads",
    "stderr_progress",
    "summary_ms",
    "synthetic_email",
]

FIELD_BYTES = {"name": 40, "email": 50, "phone": 40, "company": 45, "job_title": 45}


def bench_settings(workdir: Path, database_url: str | None = None) -> Settings:
    """Settings with a fresh key ring; the database is migrated."""
    workdir.mkdir(parents=True, exist_ok=True)
    ring = workdir / "keyring.json"
    if not ring.exists():
        write_keyring_file(ring, new_keyring_document())
    overrides: dict[str, object] = {"var_dir": workdir, "keyring_file": ring}
    if database_url:
        overrides["database_url"] = database_url
    settings = load_settings(**overrides)
    upgrade(settings.database_url)
    return settings


def synthetic_email(number: int) -> str:
    """The address of synthetic lead ``number``."""
    return f"bench{number}@example.com"


def seed_leads(
    settings: Settings,
    keyring: KeyRing,
    count: int,
    *,
    batch: int = 20_000,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Bulk-insert ``count`` synthetic leads (see the module docstring)."""
    index_key = keyring.derive(INDEX_PURPOSE)
    version = keyring.active_version
    kek = AESGCM(keyring.kek(version))
    now = dt.datetime.now(dt.UTC)
    engine = create_engine(settings.database_url)
    postgres = engine.dialect.name == "postgresql"
    done = 0
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        while done < count:
            size = min(batch, count - done)
            leads, personal, keys = [], [], []
            for number in range(done, done + size):
                lead_id = uuid.uuid4()
                email = synthetic_email(number).encode()
                index = hmac.new(index_key, email, hashlib.sha256).digest()
                leads.append((lead_id, index, now))
                fields = [secrets.token_bytes(29 + n) for n in FIELD_BYTES.values()]
                personal.append((lead_id, *fields))
                nonce = secrets.token_bytes(12)
                aad = f"leadguard/dek|{lead_id}|{version}".encode()
                wrapped = b"\x01" + nonce + kek.encrypt(nonce, os.urandom(32), aad)
                keys.append((lead_id, version, wrapped, now))
            _copy(raw, postgres, leads, personal, keys)
            raw.commit()
            done += size
            if progress:
                progress(done)
    engine.dispose()


def _copy(raw, postgres: bool, leads, personal, keys) -> None:  # type: ignore[no-untyped-def]
    lead_sql = (
        "leads (id, email_index, created_at, updated_at, status, tier, score, "
        "source, time_zone)"
    )
    personal_sql = "lead_personal (lead_id, name, email, phone, company, job_title)"
    key_sql = (
        "subject_keys (subject_id, kek_version, wrapped_key, created_at, key_version)"
    )
    lead_rows = [
        (i, x, t, t, "new", "warm", 50, "bench", "Asia/Kuala_Lumpur")
        for i, x, t in leads
    ]
    key_rows = [(*row, 1) for row in keys]
    cursor = raw.cursor()
    if postgres:
        for table, rows in (
            (lead_sql, lead_rows),
            (personal_sql, personal),
            (key_sql, key_rows),
        ):
            with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    else:
        for table, rows in (
            (lead_sql, lead_rows),
            (personal_sql, personal),
            (key_sql, key_rows),
        ):
            width = len(rows[0])
            marks = ", ".join("?" * width)
            converted = [
                tuple(v.hex if isinstance(v, uuid.UUID) else v for v in row)
                for row in rows
            ]
            cursor.executemany(f"INSERT INTO {table} VALUES ({marks})", converted)  # noqa: S608
    cursor.close()


def summary_ms(samples: list[float]) -> dict[str, float]:
    """Median, p95 and max of samples given in seconds, in milliseconds."""
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
        "samples": len(ordered),
    }


def stderr_progress(label: str, total: int) -> Callable[[int], None]:
    """A progress callback that prints to stderr (JSON stays on stdout)."""
    started = time.perf_counter()

    def report(done: int) -> None:
        rate = done / max(time.perf_counter() - started, 1e-9)
        print(f"{label}: {done}/{total} ({rate:,.0f}/s)", file=sys.stderr)

    return report
