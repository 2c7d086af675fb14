"""Lookup, erasure and rotation among 1,000,000 leads on PostgreSQL.

Seeds N leads in bulk (see bench/vault_common.py), then measures:

- lookup by email through the blind index (median of many lookups);
- erasing one subject (the vault's full erasure, one transaction each);
- rotating every data key to a new KEK (keys per second).

Prints JSON. ``python -m bench.vault_million [--leads 1000000]``
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from bench.vault_common import (
    bench_settings,
    create_database,
    drop_database,
    seed_leads,
    stderr_progress,
    summary_ms,
    synthetic_email,
)
from leads.keyring import add_key_version
from leads.vault import Vault


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--erasures", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    rng = random.Random(1)
    url = create_database()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = bench_settings(Path(tmp), url)
            vault = Vault.from_settings(settings)
            started = time.perf_counter()
            seed_leads(
                settings,
                vault.keyring,
                args.leads,
                progress=stderr_progress("seeding", args.leads),
            )
            seeding_s = time.perf_counter() - started
            from sqlalchemy import text

            with vault.sessions.begin() as session:
                session.execute(text("ANALYZE"))

            lookups = []
            for _ in range(args.lookups):
                email = synthetic_email(rng.randrange(args.leads))
                with vault.sessions() as session:
                    begun = time.perf_counter()
                    found = vault.find_lead_id(session, email)
                    lookups.append(time.perf_counter() - begun)
                assert found is not None

            erasures = []
            for number in rng.sample(range(args.leads), args.erasures):
                with vault.sessions() as session:
                    lead_id = vault.find_lead_id(session, synthetic_email(number))
                assert lead_id is not None
                begun = time.perf_counter()
                with vault.sessions.begin() as session:
                    vault.erase_subject(session, lead_id, actor="bench")
                erasures.append(time.perf_counter() - begun)

            assert settings.keyring_file is not None
            add_key_version(settings.keyring_file)
            rotator = Vault.from_settings(settings)
            begun = time.perf_counter()
            rotated = rotator.rewrap_all(args.batch_size)
            rotation_s = time.perf_counter() - begun
    finally:
        if not args.keep:
            drop_database(url)
    print(
        json.dumps(
            {
                "benchmark": "vault_million",
                "database": "postgresql",
                "leads": args.leads,
                "seeding_s": round(seeding_s, 1),
                "lookup_by_email": summary_ms(lookups) | {"goal_median_ms": 2},
                "erase_one_subject": summary_ms(erasures) | {"goal_ms": 50},
                "rotation": {
                    "keys": rotated,
                    "seconds": round(rotation_s, 1),
                    "keys_per_second": round(rotated / rotation_s),
                    "batch_size": args.batch_size,
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
