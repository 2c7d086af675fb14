"""Raw searches of every store for a subject's marker values."""

from __future__ import annotations

from pathlib import Path

import redis

from tests.leads.canaries import hits_in_bytes, pg_dump_bytes

__all__ = [
    "hits_in_bytes",
    "hits_in_files",
    "hits_in_folder",
    "hits_in_redis",
    "pg_dump_bytes",
]


def hits_in_files(paths: list[Path], markers: list[str]) -> list[str]:
    """Markers found in any of the files (missing files are skipped)."""
    found: list[str] = []
    for path in paths:
        if path.is_file():
            found += [
                f"{path.name}:{m}" for m in hits_in_bytes(path.read_bytes(), markers)
            ]
    return found


def hits_in_folder(folder: Path, markers: list[str]) -> list[str]:
    """Markers found in any file under a folder."""
    if not folder.is_dir():
        return []
    return hits_in_files(sorted(p for p in folder.rglob("*") if p.is_file()), markers)


def hits_in_redis(url: str, prefix: str, markers: list[str]) -> list[str]:
    """Markers found in the names or string values of keys under a prefix."""
    client = redis.Redis.from_url(url)
    found = []
    try:
        for key in client.scan_iter(match=f"{prefix}*"):
            value = client.get(key) if client.type(key) == b"string" else b""
            found += hits_in_bytes(key + b" " + (value or b""), markers)
    finally:
        client.close()
    return found
