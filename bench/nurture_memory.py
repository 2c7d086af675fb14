"""Worker memory while sending many emails: it should stay flat.

Captures N leads with email consent, starts the local sink and one Celery
worker (prefork, ``--concurrency``), runs ticks until every email is in the
sink, and samples the resident memory of the worker's whole process tree
(parent and pool children, from /proc) every two seconds. Prints JSON with
the samples at each tenth of the run.

    .venv/bin/python bench/nurture_memory.py --emails 100000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from leads.keyring import new_keyring_document, write_keyring_file  # noqa: E402
from leads.migrate import upgrade  # noqa: E402
from leads.vault import Vault  # noqa: E402
from tests.nurture.bulk import add_leads  # noqa: E402
from tests.nurture.stack import NurtureStack  # noqa: E402

SEQUENCE = """\
version: 1
name: memory
window:
  days: [mon, tue, wed, thu, fri, sat, sun]
  start: "00:00"
  end: "24:00"
steps:
  - id: only
    delay: 0 hours
    subject: "Hello {{ first_name }}"
    html: "<h1>Hello {{ name }}</h1><p>A short note about {{ company }}.</p>"
"""


def tree_rss_kib(root_pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    total, pending = 0, [root_pid]
    while pending:
        pid = pending.pop()
        pending.extend(children.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--broker", choices=["redis", "sqla"], default="redis")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="lg-memory-"))
    sequences = base / "sequences"
    sequences.mkdir()
    (sequences / "memory.yml").write_text(SEQUENCE)
    var_dir = base / "var"
    var_dir.mkdir()
    write_keyring_file(var_dir / "keyring.json", new_keyring_document())
    stack = NurtureStack(
        var_dir=var_dir,
        broker=args.broker,
        sequences_dir=sequences,
        extra={
            "LEADGUARD_NURTURE_BATCH_SIZE": "2000",
            "LEADGUARD_NURTURE_REDISPATCH_SECONDS": "600",
            "LEADGUARD_NURTURE_CLAIM_LEASE_SECONDS": "600",
        },
    )
    upgrade(stack.settings.database_url)
    vault = Vault.from_settings(stack.settings)
    started = time.perf_counter()
    add_leads(vault, args.emails)
    capture_seconds = time.perf_counter() - started
    stack.start_sink()
    samples: list[tuple[int, int]] = []
    try:
        worker = stack.start_worker(args.concurrency)
        started = time.perf_counter()
        stack.tick(vault)
        last_tick = time.perf_counter()
        while True:
            sent = stack.count()
            samples.append((sent, tree_rss_kib(worker.pid)))
            if sent >= args.emails:
                break
            if time.perf_counter() - last_tick > 30:
                stack.tick(vault)
                last_tick = time.perf_counter()
            time.sleep(2)
        send_seconds = time.perf_counter() - started
    finally:
        stack.close()
    tenths = []
    for tenth in range(1, 11):
        goal = args.emails * tenth // 10
        sample = next((s for s in samples if s[0] >= goal), samples[-1])
        tenths.append({"sent": sample[0], "worker_rss_mib": round(sample[1] / 1024, 1)})
    first = tenths[0]["worker_rss_mib"]
    print(
        json.dumps(
            {
                "benchmark": "nurture_memory",
                "broker": args.broker,
                "emails": args.emails,
                "concurrency": args.concurrency,
                "capture_seconds": round(capture_seconds, 1),
                "send_seconds": round(send_seconds, 1),
                "emails_per_second": round(args.emails / send_seconds, 1),
                "rss_by_tenth": tenths,
                "rss_growth_after_first_tenth_mib": round(
                    max(t["worker_rss_mib"] for t in tenths) - first, 1
                ),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
