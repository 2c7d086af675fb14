"""Erase one subject across every store with 1,000,000 leads present.

Seeds N synthetic leads in bulk (bench/vault_common.py), gives every lead a
chat session link, a consent record, a nurture enrollment and two send
records (SQL ``INSERT ... SELECT``), fills the tracker store with
conversations and the development mail folder with messages of other
people, then plants full subjects through the real code paths (vault
capture with two chat sessions, two transcripts, an enrollment with two
sends, a sealed note, two real ``.eml`` files, two Redis keys) and erases
them one by one with :func:`leads.erasure.erase_subject_everywhere`.

Reports the erasure time (median, p95, max; the goal is at most 1 second),
the time of one deep verification (every column scanned for the values),
and the seeding figures. Prints JSON.

``python -m bench.privacy_erase [--leads 1000000] [--subjects 20]
[--database postgres|sqlite]``
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import tempfile
import time
import uuid
from pathlib import Path

import redis
from sqlalchemy import text

from bench.vault_common import (
    bench_settings,
    create_database,
    drop_database,
    seed_leads,
    stderr_progress,
    summary_ms,
)
from leads.consent import ConsentAnswer
from leads.erasure import erase_subject_everywhere
from leads.models import Purpose
from leads.privacy_stores import MailFolder, RedisStore, TrackerStore
from leads.settings import Settings
from leads.vault import LeadInput, Vault

REDIS_URL = os.environ.get("LEADGUARD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
GOAL_SECONDS = 1.0

LINKED_ROWS_SQL = {
    "postgresql": [
        "INSERT INTO lead_chat_sessions (lead_id, chat_session_id, created_at) "
        "SELECT id, md5(id::text), now() FROM leads",
        "INSERT INTO consent_records (subject_id, purpose, granted, notice_version, "
        "notice_sha256, channel, recorded_at) SELECT id, 'sales_contact', true, "
        "'1', repeat('0', 64), 'chat', now() FROM leads",
        "INSERT INTO nurture_enrollments (lead_id, sequence, state, next_step, "
        "status_at_enrollment, created_at, updated_at) SELECT id, 'welcome', "
        "'completed', 2, 'new', now(), now() FROM leads",
        "INSERT INTO nurture_sends (enrollment_id, lead_id, step, message_id, state, "
        "attempts, created_at) SELECT e.id, e.lead_id, s, e.id || '-' || s || "
        "'@bench.example', 'sent', 1, now() FROM nurture_enrollments e, "
        "generate_series(0, 1) s",
    ],
    "sqlite": [
        "INSERT INTO lead_chat_sessions (lead_id, chat_session_id, created_at) "
        "SELECT id, lower(hex(randomblob(16))), datetime('now') FROM leads",
        "INSERT INTO consent_records (subject_id, purpose, granted, notice_version, "
        "notice_sha256, channel, recorded_at) SELECT id, 'sales_contact', 1, '1', "
        "'0', 'chat', datetime('now') FROM leads",
        "INSERT INTO nurture_enrollments (lead_id, sequence, state, next_step, "
        "status_at_enrollment, created_at, updated_at) SELECT id, 'welcome', "
        "'completed', 2, 'new', datetime('now'), datetime('now') FROM leads",
        "INSERT INTO nurture_sends (enrollment_id, lead_id, step, message_id, state, "
        "attempts, created_at) SELECT e.id, e.lead_id, s.step, e.id || '-' || "
        "s.step || '@bench.example', 'sent', 1, datetime('now') FROM "
        "nurture_enrollments e, (SELECT 0 AS step UNION ALL SELECT 1) s",
    ],
}


def seed_linked_rows(vault: Vault) -> float:
    """Give every seeded lead the rows other packages keep about it."""
    started = time.perf_counter()
    with vault.sessions.begin() as session:
        dialect = session.get_bind().dialect.name
        for statement in LINKED_ROWS_SQL[dialect]:
            session.execute(text(statement))
    with vault.sessions.begin() as session:
        session.execute(text("ANALYZE"))
    return time.perf_counter() - started


def seed_tracker(tracker: TrackerStore, conversations: int) -> None:
    """Fill the tracker store with other people's (encrypted) conversations."""
    from bot.transcript_repository import transcripts

    repository = tracker._repository()
    try:
        blob = repository.encrypt("bench", {"events": [{"event": "user"}]})
        now = time.time()
        rows = [
            {
                "sender_key": secrets.token_hex(32),
                "key_version": 1,
                "ciphertext": blob,
                "created_at": now,
                "updated_at": now,
            }
            for _ in range(conversations)
        ]
        with repository.engine.begin() as connection:
            connection.execute(transcripts.insert(), rows)
    finally:
        repository.close()


def seed_mail(folder: Path, messages: int) -> None:
    """Write other people's messages into the development mail folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(messages):
        (folder / f"other-{number}.eml").write_bytes(
            f"To: other{number}@example.net\r\nSubject: Hello\r\n\r\nHi.\r\n".encode()
        )


def plant_subject(
    vault: Vault, settings: Settings, tracker: TrackerStore, prefix: str
) -> uuid.UUID:
    """Create one subject in every store through the real code paths."""
    from console.models import LeadNote
    from nurture.models import NurtureEnrollment, NurtureSend

    tag = secrets.token_hex(6)
    email = f"subject-{tag}@example.org"
    chat_ids = [secrets.token_hex(16), secrets.token_hex(16)]
    lead = LeadInput(
        name=f"Subject {tag}",
        email=email,
        company="Bench Sdn Bhd",
        job_title="CTO",
        phone="+60123456789",
    )
    consents = [ConsentAnswer(Purpose.SALES_CONTACT, True, "1", "chat")]
    for chat_id in chat_ids:
        with vault.sessions.begin() as session:
            result = vault.capture_lead(
                session,
                lead,
                score=70,
                tier="hot",
                source="chat",
                consents=consents,
                chat_session_id=chat_id,
            )
    lead_id = result.lead_id
    with vault.sessions.begin() as session:
        enrollment = NurtureEnrollment(
            lead_id=lead_id, sequence="welcome", status_at_enrollment="new"
        )
        session.add(enrollment)
        session.flush()
        for step in (0, 1):
            session.add(
                NurtureSend(
                    enrollment_id=enrollment.id,
                    lead_id=lead_id,
                    step=step,
                    message_id=f"{tag}-{step}@bench.example",
                    state="sent",
                )
            )
        note_id = uuid.uuid4()
        sealed = vault.seal_for_subject(
            session, lead_id, ("lead_notes", "body", note_id), f"Call {tag}"
        )
        session.add(LeadNote(id=note_id, lead_id=lead_id, body_sealed=sealed))
    repository = tracker._repository()
    try:
        for chat_id in chat_ids:
            repository.save(chat_id, {"events": [{"event": "user", "text": tag}]})
    finally:
        repository.close()
    folder = settings.var_dir.resolve() / "mail"
    for step in (0, 1):
        (folder / f"{tag}-{step}.eml").write_bytes(
            f"To: {email}\r\nSubject: Step {step}\r\n\r\nHello {tag}\r\n".encode()
        )
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.set(f"{prefix}lock:{chat_ids[0]}", b"1")
        client.set(f"{prefix}cache:{lead_id}", b"1")
    finally:
        client.close()
    return lead_id


def run(args: argparse.Namespace, workdir: Path, url: str | None) -> dict[str, object]:
    settings = bench_settings(workdir, url)
    vault = Vault.from_settings(settings)
    started = time.perf_counter()
    seed_leads(
        settings,
        vault.keyring,
        args.leads,
        progress=stderr_progress("leads", args.leads),
    )
    seeding_s = time.perf_counter() - started
    linked_s = seed_linked_rows(vault)
    tracker = TrackerStore.from_settings(settings, vault.keyring)
    mail = MailFolder.from_settings(settings, vault.keyring)
    seed_tracker(tracker, args.conversations)
    seed_mail(mail.folder, args.mail)
    prefix = f"lgbench{secrets.token_hex(4)}:"
    stores = [tracker, RedisStore([REDIS_URL]), mail]

    subjects = [
        plant_subject(vault, settings, tracker, prefix)
        for _ in range(args.subjects + 1)
    ]
    samples = []
    outcomes = []
    for lead_id in subjects[1:]:
        started = time.perf_counter()
        outcome = erase_subject_everywhere(
            vault,
            lead_id,
            actor="bench",
            channel="cli",
            settings=settings,
            stores=stores,
        )
        samples.append(time.perf_counter() - started)
        outcomes.append(outcome)
    started = time.perf_counter()
    deep = erase_subject_everywhere(
        vault,
        subjects[0],
        actor="bench",
        channel="cli",
        settings=settings,
        stores=stores,
        deep_verify=True,
        extra_files=tracker.files(),
    )
    deep_s = time.perf_counter() - started
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()

    erase = summary_ms(samples)
    first = outcomes[0]
    return {
        "benchmark": "privacy_erase",
        "database": settings.database_url.split(":", 1)[0],
        "leads": args.leads,
        "linked_rows_per_lead": {
            "chat_session_links": 1,
            "consent_records": 1,
            "nurture_enrollments": 1,
            "nurture_sends": 2,
        },
        "tracker_conversations": args.conversations,
        "mail_files": args.mail,
        "seeding_s": round(seeding_s, 1),
        "linked_rows_seeding_s": round(linked_s, 1),
        "erase_everywhere": erase,
        "goal_ms": GOAL_SECONDS * 1000,
        "meets_goal": erase["p95_ms"] <= GOAL_SECONDS * 1000,
        "all_verified_clean": all(
            o.verification is not None and o.verification.clean for o in outcomes
        ),
        "removed_per_subject": dict(sorted(first.removed.items())),
        "deep_verification_erase_ms": round(deep_s * 1000, 1),
        "deep_verification_clean": bool(deep.verification and deep.verification.clean),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--subjects", type=int, default=20)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--mail", type=int, default=1000)
    parser.add_argument(
        "--database", choices=["postgres", "sqlite"], default="postgres"
    )
    args = parser.parse_args()
    url = create_database("lgbench_privacy") if args.database == "postgres" else None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = run(args, Path(tmp), url)
    finally:
        if url is not None:
            drop_database(url)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
