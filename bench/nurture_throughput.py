"""Delivered emails per second, end to end, against a plain smtplib loop.

Both run into the same local SMTP sink (``python -m nurture.mail_sink``)
with the same number of processes. The nurture side counts from the first
tick (claim, dispatch) to the last ``.eml`` file written, with a real Celery
worker (prefork, ``--concurrency``) and the chosen broker. Prints JSON.

    .venv/bin/python bench/nurture_throughput.py --emails 2000 --broker redis
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import secrets
import smtplib
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
sys.path.insert(0, str(ROOT))

from leads.keyring import new_keyring_document, write_keyring_file  # noqa: E402
from leads.migrate import upgrade  # noqa: E402
from leads.vault import Vault  # noqa: E402
from nurture.scheduler import enroll_from_outbox  # noqa: E402
from nurture.sequences import load_sequences  # noqa: E402
from tests.nurture.bulk import add_leads  # noqa: E402
from tests.nurture.stack import NurtureStack, wait_for  # noqa: E402

SEQUENCE = """\
version: 1
name: bench
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


def _plain_worker(args: tuple[int, int, int]) -> None:
    port, count, offset = args
    smtp = smtplib.SMTP("127.0.0.1", port)
    for number in range(count):
        message = EmailMessage()
        message["From"] = "no-reply@leadguard.example"
        message["To"] = f"plain{offset + number}@example.com"
        message["Subject"] = "Hello"
        message.set_content("A short note.")
        message.add_alternative("<h1>Hello</h1><p>A short note.</p>", subtype="html")
        smtp.send_message(message)
    smtp.quit()


def plain_loop(stack: NurtureStack, emails: int, concurrency: int) -> float:
    before = len(list(stack.mail_dir.glob("*.eml")))
    share = emails // concurrency
    started = time.perf_counter()
    with multiprocessing.Pool(concurrency) as pool:
        pool.map(
            _plain_worker,
            [(stack.port, share, i * share) for i in range(concurrency)],
        )
    elapsed = time.perf_counter() - started
    sent = len(list(stack.mail_dir.glob("*.eml"))) - before
    return sent / elapsed


def nurture_run(stack: NurtureStack, emails: int, vault: Vault) -> float:
    """Time claim, dispatch and delivery; enrollment (at capture) is excluded."""
    with vault.sessions.begin() as session:
        enroll_from_outbox(
            session, load_sequences(stack.sequences_dir), stack.settings, emails
        )
    goal = stack.count() + emails
    started = time.perf_counter()
    stack.tick(vault)
    wait_for(
        lambda: stack.count() >= goal,
        3600,
        "every email",
        step=0.5,
    )
    return emails / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--broker", choices=["redis", "sqla"], default="redis")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="lg-bench-"))
    sequences = base / "sequences"
    sequences.mkdir()
    (sequences / "bench.yml").write_text(SEQUENCE)
    var_dir = base / "var"
    var_dir.mkdir()
    write_keyring_file(var_dir / "keyring.json", new_keyring_document())
    extra = {"LEADGUARD_NURTURE_BATCH_SIZE": "2000"}
    pg_name = None
    if args.database == "postgres":
        pg_name = f"lg_nurture_tp_{secrets.token_hex(4)}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{pg_name}"'))
        admin.dispose()
        extra["LEADGUARD_DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + f"/{pg_name}"
    stack = NurtureStack(
        var_dir=var_dir, broker=args.broker, sequences_dir=sequences, extra=extra
    )
    upgrade(stack.settings.database_url)
    vault = Vault.from_settings(stack.settings)
    add_leads(vault, args.emails)
    stack.start_sink()
    try:
        plain = plain_loop(stack, args.emails, args.concurrency)
        stack.start_worker(args.concurrency)
        nurture = nurture_run(stack, args.emails, vault)
    finally:
        stack.close()
        if pg_name is not None:
            from leads.database import engine_for

            engine_for(stack.settings.database_url).dispose()
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(
                    text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
                )
            admin.dispose()
    print(
        json.dumps(
            {
                "benchmark": "nurture_throughput",
                "broker": args.broker,
                "database": args.database,
                "emails": args.emails,
                "concurrency": args.concurrency,
                "plain_smtplib_per_second": round(plain, 1),
                "nurture_end_to_end_per_second": round(nurture, 1),
                "ratio": round(nurture / plain, 3),
                "goal_ratio": 0.8,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
