"""Unique marker values planted in personal fields, and scanners for them."""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path


def canary_record(number: int) -> tuple[dict[str, object], list[str]]:
    """A lead import record whose every personal value is a unique marker."""
    tag = secrets.token_hex(6)
    values = {
        "name": f"Canaryname{tag}",
        "email": f"canary{tag}@canary-{number}.example.com",
        "company": f"Canarycorp{tag}",
        "job_title": f"Director of Canary{tag}",
        "need": f"Canaryneed{tag}",
        "phone": f"+60 12-{300 + number % 600:03d} {1000 + number:04d}",
    }
    record: dict[str, object] = dict(values)
    record["consents"] = [
        {
            "purpose": "sales_contact",
            "granted": True,
            "notice_version": "1",
            "recorded_at": "2026-11-01T09:00:00+08:00",
        }
    ]
    markers = [str(v) for k, v in values.items() if k != "phone"]
    markers.append(tag)
    markers.append(
        "+60" + values["phone"].replace("+60", "").replace(" ", "").replace("-", "")
    )
    return record, markers


def as_lines(records: list[dict[str, object]]) -> list[str]:
    """Serialise records as JSON lines."""
    return [json.dumps(r) for r in records]


def hits_in_bytes(blob: bytes, markers: list[str]) -> list[str]:
    """Markers found in raw bytes (UTF-8, UTF-16 and lower-case forms)."""
    lowered = blob.lower()
    found = []
    for marker in markers:
        forms = {marker.encode(), marker.lower().encode(), marker.encode("utf-16-le")}
        if any(form in blob or form in lowered for form in forms):
            found.append(marker)
    return found


def hits_in_files(paths: list[Path], markers: list[str]) -> list[str]:
    """Markers found in any of the files (missing files are skipped)."""
    found: list[str] = []
    for path in paths:
        if path.exists():
            found += hits_in_bytes(path.read_bytes(), markers)
    return found


def pg_dump_bytes(url: str) -> bytes:
    """A plain-text pg_dump of the database at a SQLAlchemy URL."""
    libpq = url.replace("postgresql+psycopg://", "postgresql://")
    return subprocess.run(
        ["pg_dump", "--no-owner", "--data-only", libpq],
        check=True,
        capture_output=True,
    ).stdout
