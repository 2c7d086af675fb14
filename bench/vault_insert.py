"""Encrypted lead insert against the same schema written in plaintext.

Both sides run the vault's own ``capture_lead`` (same rows, consent records,
outbox event and audit event, one transaction per lead); the plaintext side
replaces only sealing and key wrapping with identity functions. Prints JSON.

    python -m bench.vault_insert [--leads 2000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.vault_common import bench_settings, create_database, drop_database
from leads.consent import ConsentAnswer
from leads.models import Purpose
from leads.vault import LeadInput, Vault


class PlaintextVault(Vault):
    """The vault with encryption switched off, for comparison only."""

    def _wrap(self, subject_id, data_key, version):  # type: ignore[no-untyped-def]
        return data_key

    def _seal_fields(self, data_key, key_version, lead_id, values):  # type: ignore[no-untyped-def]
        return {c: (v.encode() if v is not None else None) for c, v in values.items()}


def _leads(count: int, offset: int) -> list[LeadInput]:
    return [
        LeadInput(
            name=f"Nur Aisyah {n}",
            email=f"lead{offset + n}@example.com.my",
            company="Example Manufacturing Sdn Bhd",
            job_title="Head of Operations",
            need="Automate our quotation follow-ups",
            phone="+60 12-345 6789",
            company_size="51-200",
            timeline="this_quarter",
            budget="50k_200k",
        )
        for n in range(count)
    ]


def _run(vault: Vault, leads: list[LeadInput]) -> float:
    consents = [ConsentAnswer(Purpose.SALES_CONTACT, True, "1", "chat")]
    started = time.perf_counter()
    for lead in leads:
        with vault.sessions.begin() as session:
            vault.capture_lead(
                session, lead, score=60, tier="warm", source="bench", consents=consents
            )
    return time.perf_counter() - started


def measure(database: str, count: int, workdir: Path) -> dict[str, object]:
    url = create_database() if database == "postgresql" else None
    try:
        settings = bench_settings(workdir / database, url)
        encrypted = Vault.from_settings(settings)
        plain = PlaintextVault(encrypted.keyring, encrypted.sessions)
        _run(encrypted, _leads(50, 10_000_000))  # warm-up both paths
        _run(plain, _leads(50, 20_000_000))
        rounds = []
        for round_number in range(3):
            base = round_number * 2 * count
            rounds.append(
                (
                    _run(encrypted, _leads(count, base)),
                    _run(plain, _leads(count, base + count)),
                )
            )
        enc = min(r[0] for r in rounds)
        pln = min(r[1] for r in rounds)
        return {
            "database": database,
            "leads": count,
            "encrypted_per_lead_ms": round(enc / count * 1000, 3),
            "plaintext_per_lead_ms": round(pln / count * 1000, 3),
            "ratio": round(enc / pln, 3),
            "goal_ratio_at_most": 1.5,
        }
    finally:
        if url:
            drop_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = [
            measure(db, args.leads, Path(tmp)) for db in ("sqlite", "postgresql")
        ]
    print(json.dumps({"benchmark": "vault_insert", "results": results}, indent=2))


if __name__ == "__main__":
    main()
