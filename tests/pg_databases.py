"""Throwaway PostgreSQL databases on the machine's real server.

Used by the tests and the benchmarks alike; importing it has no side
effects (unlike ``tests/conftest.py``).
"""

from __future__ import annotations

import os
import secrets

from sqlalchemy import create_engine, text

PG_ADMIN_URL = os.environ.get(
    "LEADGUARD_TEST_PG_ADMIN_URL",
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
)


def create_pg_database(prefix: str = "lg") -> str:
    """Create an empty PostgreSQL database and return its URL."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(url: str) -> None:
    """Drop a database made by :func:`create_pg_database`."""
    from leads.database import engine_for

    engine_for(url).dispose()
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
