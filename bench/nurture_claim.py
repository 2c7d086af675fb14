"""Claiming due steps with 10,000 against 1,000,000 enrollments.

The table holds N active enrollments that are not due; each round marks
1,000 of them due and times the beat's claim (batches of 500, each in its
own transaction, writing the send records) until nothing is due. The goal
is that the claim time barely depends on the table size (at most 1.5x).
Rounds alternate between the two tables so that load on the machine hits
both alike.
Prints JSON.

    .venv/bin/python bench/nurture_claim.py --database postgres
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from leads.database import session_factory  # noqa: E402
from leads.migrate import upgrade  # noqa: E402
from leads.settings import Settings, load_settings  # noqa: E402
from nurture.scheduler import claim_due_steps  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DUE_PER_ROUND = 1000
BATCH = 500

POPULATE_PG = """
WITH made AS (
  INSERT INTO leads (id, status, tier, score, source, email_index, time_zone,
                     created_at, updated_at)
  SELECT gen_random_uuid(), 'new', 'hot', 80, 'bench',
         decode(md5(g::text) || md5((g + 1)::text), 'hex'),
         'Asia/Kuala_Lumpur', now(), now()
  FROM generate_series(1, :n) AS g
  RETURNING id
)
INSERT INTO nurture_enrollments (lead_id, sequence, state, next_step, next_due_at,
                                 status_at_enrollment, created_at, updated_at)
SELECT id, 'bench', 'active', 0, now() + interval '365 days', 'new', now(), now()
FROM made
"""

POPULATE_SQLITE_LEADS = """
WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < :n)
INSERT INTO leads (id, status, tier, score, source, email_index, time_zone,
                   created_at, updated_at)
SELECT lower(hex(randomblob(16))), 'new', 'hot', 80, 'bench', randomblob(32),
       'Asia/Kuala_Lumpur', datetime('now'), datetime('now')
FROM g
"""

POPULATE_SQLITE_ENROLLMENTS = """
INSERT INTO nurture_enrollments (lead_id, sequence, state, next_step, next_due_at,
                                 status_at_enrollment, created_at, updated_at)
SELECT id, 'bench', 'active', 0, '2030-01-01 00:00:00.000000', 'new',
       datetime('now'), datetime('now')
FROM leads
"""


def _settings(database: str, base: Path) -> tuple[Settings, str | None]:
    if database == "sqlite":
        return load_settings(var_dir=base), None
    name = f"lg_nurture_bench_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    return load_settings(var_dir=base, database_url=url), name


def _drop(name: str | None) -> None:
    if name is None:
        return
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@dataclass
class Table:
    """One populated database and its claim timings."""

    size: int
    settings: Settings
    pg_name: str | None
    populate_seconds: float
    timings: list[float] = field(default_factory=list)


def populate(database: str, size: int) -> Table:
    base = Path(tempfile.mkdtemp(prefix="lg-claim-"))
    settings, pg_name = _settings(database, base)
    upgrade(settings.database_url)
    sessions = session_factory(settings)
    started = time.perf_counter()
    with sessions.begin() as session:
        if database == "postgres":
            session.execute(text(POPULATE_PG), {"n": size})
        else:
            session.execute(text(POPULATE_SQLITE_LEADS), {"n": size})
            session.execute(text(POPULATE_SQLITE_ENROLLMENTS))
    with sessions.begin() as session:
        session.execute(text("ANALYZE"))
    return Table(size, settings, pg_name, time.perf_counter() - started)


def claim_round(database: str, table: Table, round_number: int) -> None:
    sessions = session_factory(table.settings)
    with sessions.begin() as session:
        session.execute(
            text(
                "UPDATE nurture_enrollments SET next_due_at = :due "
                "WHERE id > :low AND id <= :high"
            ),
            {
                "due": "2020-01-01 00:00:00+00:00"
                if database == "postgres"
                else "2020-01-01 00:00:00.000000",
                "low": round_number * DUE_PER_ROUND,
                "high": (round_number + 1) * DUE_PER_ROUND,
            },
        )
    claimed = 0
    started = time.perf_counter()
    while True:
        with sessions.begin() as session:
            ids = claim_due_steps(session, table.settings, BATCH)
        claimed += len(ids)
        if len(ids) < BATCH:
            break
    table.timings.append(time.perf_counter() - started)
    assert claimed == DUE_PER_ROUND, claimed


def summary(table: Table) -> dict[str, object]:
    return {
        "populate_seconds": round(table.populate_seconds, 1),
        "claim_1000_median_seconds": round(statistics.median(table.timings), 4),
        "claim_1000_all_seconds": [round(t, 4) for t in table.timings],
    }


def release(table: Table) -> None:
    from leads.database import engine_for

    engine_for(table.settings.database_url).dispose()
    _drop(table.pg_name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--database", choices=["sqlite", "postgres"], default="postgres"
    )
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    tables = [populate(args.database, args.small), populate(args.database, args.large)]
    try:
        for round_number in range(args.rounds):
            for table in tables:
                claim_round(args.database, table, round_number)
    finally:
        for table in tables:
            release(table)
    small, large = (summary(t) for t in tables)
    ratio = statistics.median(tables[1].timings) / statistics.median(tables[0].timings)
    print(
        json.dumps(
            {
                "benchmark": "nurture_claim",
                "database": args.database,
                "due_per_round": DUE_PER_ROUND,
                "batch": BATCH,
                "enrollments_small": args.small,
                "enrollments_large": args.large,
                "small": small,
                "large": large,
                "ratio_large_to_small": round(ratio, 3),
                "goal_ratio_at_most": 1.5,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
