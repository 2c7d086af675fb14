"""Erase a data subject from every store their data reached.

:func:`erase_subject_everywhere` is the one entry point for every channel:
the privacy officer's console page, the visitor's verified web request, the
chat's "delete my data" (a :class:`~leads.models.PrivacyRequest`) and
``leadguard subject erase``. It runs these steps, each idempotent:

1. **Job.** An :class:`~leads.erasure_job.ErasureJob` row (lead id and blind
   index only) and the suppression entry are committed first, so nothing
   is emailed from here on and a crash leaves a marker to resume from.
   The subject's identifying values are decrypted into memory for step 5.
2. **Outside stores.** Conversations in the tracker store (by the linked
   chat session ids), Redis keys, messages in the development mail folder.
3. **Database.** In one transaction: rows of every table linked to the lead
   (enrollments, send records, notes... found from the schema), then the
   vault's own erasure (consent records, outbox rows, the sealed fields, the
   data key, the lead). On SQLite, deleted pages are overwritten with zeros
   and the write-ahead log is checkpointed and truncated.
4. **Sweep.** The outside stores again, for anything written meanwhile.
5. **Verification.** Every store is checked by id (and by value when
   ``deep``); the job is marked completed and its blind index cleared.

What remains: the suppression entry (the blind index, so the address is
never emailed again), the ``subject.erased`` audit event naming only the lead
id, the job row (lead id, counts) and any privacy request (ids only).

Limits: copies outside leadguard's stores (backups, a relay's logs, the
recipient's mailbox) are out of reach; backups hold sealed values whose data
key was destroyed, readable only while the key-encryption key that wrapped
that data key survives (see the key revocation runbook in the README).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leads.blind_index import blind_index_for_email
from leads.erasure_check import VerificationReport, sqlite_files, verify_erasure
from leads.erasure_job import ErasureJob, ErasureStatus
from leads.errors import InvalidInputError, NotFoundError
from leads.linked_rows import linked_tables
from leads.model_registry import all_tables
from leads.models import Lead, LeadChatSession, PrivacyRequest, utcnow
from leads.personal import Personal
from leads.privacy_stores import ErasureTarget, ExternalStore, external_stores
from leads.settings import Settings, get_settings
from leads.vault import Vault, register_erasure_step

log = logging.getLogger(__name__)

IDENTIFYING_FIELDS = ("email", "name", "phone")
CHANNELS = frozenset({"console", "web", "chat", "cli", "retention", "api"})

__all__ = [
    "ErasureOutcome",
    "erase_subject_by_email",
    "erase_subject_everywhere",
    "resume_erasures",
]


@dataclass
class ErasureOutcome:
    """What an erasure removed, what it could not reach, what it verified.

    ``removed`` maps ``store`` or ``table`` names to record counts;
    ``unreachable`` maps outside stores that are not configured here to the
    reason; ``already_erased`` is True when a completed job was found and
    nothing was left to do.
    """

    lead_id: uuid.UUID
    removed: dict[str, int] = field(default_factory=dict)
    unreachable: dict[str, str] = field(default_factory=dict)
    verification: VerificationReport | None = None
    already_erased: bool = False

    @property
    def total_removed(self) -> int:
        """The number of records removed across every store."""
        return sum(self.removed.values())


def _chat_sessions(session: Session, lead_id: uuid.UUID) -> list[str]:
    return list(
        session.scalars(
            select(LeadChatSession.chat_session_id)
            .where(LeadChatSession.lead_id == lead_id)
            .order_by(LeadChatSession.id)
        )
    )


ERASED_MARK = "leadguard.linked_rows_erased"


def _erase_linked_rows(session: Session, lead_id: uuid.UUID) -> dict[str, int]:
    if session.info.get(ERASED_MARK) == lead_id:
        return {}
    chat_ids = _chat_sessions(session, lead_id)
    removed: dict[str, int] = {}
    for plan in linked_tables(all_tables(), lead_id, chat_ids, include_vault=False):
        count = 0
        for condition in plan.conditions:
            statement: Any
            if plan.unlink_column is not None:
                statement = (
                    update(plan.table)
                    .where(condition)
                    .values({plan.unlink_column: None})
                )
            else:
                statement = delete(plan.table).where(condition)
            result = session.execute(statement)
            count += int(getattr(result, "rowcount", 0) or 0)
        removed[plan.table.name] = count
    session.info[ERASED_MARK] = lead_id
    return removed


def _linked_rows_step(session: Session, lead_id: uuid.UUID) -> int:
    return sum(_erase_linked_rows(session, lead_id).values())


register_erasure_step("linked_rows", _linked_rows_step)


def _identifying_values(
    vault: Vault, session: Session, lead_id: uuid.UUID
) -> tuple[Personal[str], ...]:
    try:
        fields = vault.read_personal(session, lead_id)
    except NotFoundError:
        return ()
    return tuple(v for k, v in fields.items() if k in IDENTIFYING_FIELDS and v)


def _open_job(
    vault: Vault,
    session: Session,
    lead_id: uuid.UUID,
    *,
    actor: str,
    channel: str,
) -> tuple[ErasureJob | None, ErasureTarget | None]:
    lead = session.get(Lead, lead_id)
    job = session.scalar(select(ErasureJob).where(ErasureJob.lead_id == lead_id))
    if lead is None and job is None:
        return None, None
    if job is None:
        assert lead is not None  # noqa: S101 - narrowed by the check above
        job = ErasureJob(
            lead_id=lead_id,
            email_index=lead.email_index,
            channel=channel,
            actor=actor,
            attempts=0,
            status=ErasureStatus.RUNNING,
        )
        session.add(job)
    if lead is not None:
        job.status = ErasureStatus.RUNNING
        job.email_index = job.email_index or lead.email_index
        vault.suppress(session, lead.email_index, "erased")
    job.attempts = (job.attempts or 0) + 1
    session.flush()
    target = ErasureTarget(
        lead_id=lead_id,
        email_index=job.email_index,
        chat_session_ids=tuple(_chat_sessions(session, lead_id)),
        values=_identifying_values(vault, session, lead_id) if lead else (),
    )
    return job, target


def _start_once(
    vault: Vault, lead_id: uuid.UUID, actor: str, channel: str
) -> tuple[ErasureJob | None, ErasureTarget | None, bool]:
    with vault.sessions.begin() as session:
        job, target = _open_job(vault, session, lead_id, actor=actor, channel=channel)
        completed = job is not None and job.status == ErasureStatus.COMPLETED
    return job, target, completed


def _start(
    vault: Vault, lead_id: uuid.UUID, *, actor: str, channel: str
) -> tuple[ErasureJob | None, ErasureTarget | None, bool]:
    """Open or reopen the job, retrying once after a concurrent insert."""
    try:
        return _start_once(vault, lead_id, actor, channel)
    except IntegrityError:
        log.info("erasure.job_race retrying=1")
        return _start_once(vault, lead_id, actor, channel)


def _secure_delete(session: Session) -> None:
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete=ON"))


def _checkpoint_sqlite(vault: Vault) -> None:
    bind = vault.sessions.kw.get("bind")
    if bind is None or bind.dialect.name != "sqlite":
        return
    raw = bind.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()


def _erase_outside(
    stores: Sequence[ExternalStore], target: ErasureTarget, outcome: ErasureOutcome
) -> None:
    for store in stores:
        reason = store.unavailable()
        if reason is not None:
            outcome.unreachable[store.name] = reason
            continue
        removed = store.erase(target)
        outcome.removed[store.name] = outcome.removed.get(store.name, 0) + removed


def _erase_in_database(
    vault: Vault, lead_id: uuid.UUID, actor: str, outcome: ErasureOutcome
) -> None:
    with vault.sessions.begin() as session:
        # Locks the row: a concurrent erasure of the same subject waits here,
        # then finds it gone and records nothing twice.
        if session.get(Lead, lead_id, with_for_update=True) is None:
            return
        _secure_delete(session)
        outcome.removed.update(_erase_linked_rows(session, lead_id))
        report = vault.erase_subject(session, lead_id, actor=actor)
        for store, count in report.removed.items():
            outcome.removed[store] = outcome.removed.get(store, 0) + count
    _checkpoint_sqlite(vault)


def _close_job(vault: Vault, lead_id: uuid.UUID, outcome: ErasureOutcome) -> None:
    with vault.sessions.begin() as session:
        job = session.scalar(select(ErasureJob).where(ErasureJob.lead_id == lead_id))
        if job is None:
            return
        clean = outcome.verification is None or outcome.verification.clean
        job.status = ErasureStatus.COMPLETED if clean else ErasureStatus.UNVERIFIED
        job.completed_at = utcnow()
        if clean:
            job.email_index = None
        previous = dict(job.removed or {})
        for name, count in outcome.removed.items():
            previous[name] = int(previous.get(name, 0)) + count
        job.removed = {k: v for k, v in previous.items() if v}
        if not clean:
            return
        session.execute(
            update(PrivacyRequest)
            .where(PrivacyRequest.lead_id == lead_id)
            .where(PrivacyRequest.kind == "erasure")
            .where(PrivacyRequest.status != "completed")
            .values(status="completed", completed_at=utcnow())
        )


def _verify(
    vault: Vault,
    settings: Settings,
    tables: Sequence[Table],
    target: ErasureTarget,
    stores: Sequence[ExternalStore],
    deep: bool,
    extra_files: Sequence[Path],
) -> VerificationReport:
    files = [*sqlite_files(settings.database_url), *extra_files]
    with vault.sessions() as session:
        return verify_erasure(session, tables, target, stores, deep=deep, files=files)


def erase_subject_everywhere(
    vault: Vault,
    lead_id: uuid.UUID,
    *,
    actor: str,
    channel: str,
    settings: Settings | None = None,
    stores: Sequence[ExternalStore] | None = None,
    deep_verify: bool = False,
    extra_files: Sequence[Path] = (),
) -> ErasureOutcome:
    """Erase one subject from the vault and every other store.

    Safe to call again: an erasure interrupted half-way (a crash, a store
    that was down) completes on the next call, and a completed one reports
    ``already_erased`` and removes nothing.

    Args:
        vault: the open vault.
        lead_id: the subject.
        actor: who asked, as an id (``user:<uuid>``, ``visitor``, ``cli``).
        channel: ``console``, ``web``, ``chat``, ``cli``, ``retention`` or
            ``api``.
        settings: defaults to :func:`~leads.settings.get_settings`.
        stores: the outside stores (default: tracker, Redis, mail folder).
        deep_verify: also scan every column and the SQLite files for the
            subject's values (slow on large databases; the tests do it).
        extra_files: more raw files to scan when ``deep_verify``.

    Returns:
        Counts per store, stores out of reach, and the verification.

    Raises:
        NotFoundError: no lead and no erasure job with this id exist.
        InvalidInputError: the channel is unknown.
    """
    if channel not in CHANNELS:
        raise InvalidInputError("channel", f"unknown channel {channel!r}")
    settings = settings or get_settings()
    stores = (
        list(stores) if stores is not None else external_stores(settings, vault.keyring)
    )
    tables = all_tables()
    job, target, completed = _start(vault, lead_id, actor=actor, channel=channel)
    if job is None or target is None:
        raise NotFoundError("no such subject")
    outcome = ErasureOutcome(lead_id, already_erased=completed)
    if completed:
        outcome.verification = _verify(
            vault, settings, tables, target, stores, deep_verify, extra_files
        )
        return outcome

    _erase_outside(stores, target, outcome)
    _erase_in_database(vault, lead_id, actor, outcome)
    _erase_outside(stores, target, outcome)
    outcome.verification = _verify(
        vault, settings, tables, target, stores, deep_verify, extra_files
    )
    _close_job(vault, lead_id, outcome)
    log.info(
        "subject.erased_everywhere channel=%s removed=%s clean=%s",
        channel,
        outcome.total_removed,
        outcome.verification.clean,
    )
    return outcome


def find_subject_for_erasure(
    vault: Vault, session: Session, email: str
) -> uuid.UUID | None:
    """Find a lead, or an unfinished erasure, by email (blind index only)."""
    lead_id = vault.find_lead_id(session, email)
    if lead_id is not None:
        return lead_id
    index = blind_index_for_email(vault.keyring, email)
    return session.scalar(
        select(ErasureJob.lead_id).where(ErasureJob.email_index == index)
    )


def erase_subject_by_email(
    vault: Vault, email: str, *, actor: str, channel: str, **options: object
) -> ErasureOutcome | None:
    """Erase the subject with this address; None when nothing is held.

    Takes the same keyword options as :func:`erase_subject_everywhere`.

    Raises:
        InvalidInputError: the address is not a valid email address.
    """
    with vault.sessions() as session:
        lead_id = find_subject_for_erasure(vault, session, email)
    if lead_id is None:
        return None
    return erase_subject_everywhere(
        vault,
        lead_id,
        actor=actor,
        channel=channel,
        **options,  # type: ignore[arg-type]
    )


def resume_erasures(
    vault: Vault, *, settings: Settings | None = None, limit: int = 100
) -> list[ErasureOutcome]:
    """Complete every erasure job left unfinished (by a crash, a store down).

    Run by the periodic retention task and ``leadguard privacy resume``.
    """
    with vault.sessions() as session:
        pending = list(
            session.scalars(
                select(ErasureJob)
                .where(ErasureJob.status == ErasureStatus.RUNNING)
                .order_by(ErasureJob.id)
                .limit(limit)
            )
        )
    return [
        erase_subject_everywhere(
            vault,
            job.lead_id,
            actor=job.actor,
            channel=job.channel,
            settings=settings,
        )
        for job in pending
    ]
