"""The beat tick: enroll, claim due steps, dispatch send tasks, sweep.

Every part works in batches, each in its own short transaction, and is
safe to run in several processes at once: on PostgreSQL rows are taken
with ``FOR UPDATE SKIP LOCKED``; on SQLite every transaction begins with
``BEGIN IMMEDIATE`` (see :mod:`leads.database`), so ticks run one after the
other. Claiming clears ``next_due_at`` in the same transaction that writes
the unique send record, so a step is claimed once however many ticks
overlap. Task messages carry send ids only.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from leads.consent import may_use
from leads.models import Lead, OutboxEvent, Purpose, Suppression, utcnow
from leads.settings import Settings
from nurture.message import new_message_id
from nurture.models import (
    EnrollmentState,
    NurtureEnrollment,
    NurtureSend,
    SendState,
)
from nurture.progress import advance_enrollment, first_due_at
from nurture.sequences import SequenceSet

__all__ = [
    "TickReport",
    "claim_due_steps",
    "dispatch_due_sends",
    "enroll_from_outbox",
    "run_tick",
    "sweep_lost_claims",
]

log = logging.getLogger(__name__)

QUALIFIED_TOPIC = "lead.qualified"
DISPATCH_CHUNK = 25

Publish = Callable[[list[int]], None]


@dataclass
class TickReport:
    """Counts of what one tick did."""

    enrolled: int = 0
    claimed: int = 0
    dispatched: int = 0
    swept: int = 0


def _skip_locked(session: Session, query: Select) -> Select:  # type: ignore[type-arg]
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def _suppressed(session: Session, email_index: bytes) -> bool:
    found = session.scalar(
        select(Suppression.id).where(Suppression.email_index == email_index)
    )
    return found is not None


def enroll_from_outbox(
    session: Session, sequences: SequenceSet, settings: Settings, limit: int
) -> int:
    """Enroll the leads of pending ``lead.qualified`` events; mark them done.

    A lead is enrolled in every sequence whose audience it matches, only
    when ``email_nurture`` consent is granted now and its address is not
    suppressed; an existing enrollment in the same sequence is left alone.

    Returns:
        How many events were processed (0 when none is pending).
    """
    events = list(
        session.scalars(
            _skip_locked(
                session,
                select(OutboxEvent)
                .where(OutboxEvent.processed_at.is_(None))
                .where(OutboxEvent.topic == QUALIFIED_TOPIC)
                .order_by(OutboxEvent.id)
                .limit(limit),
            )
        )
    )
    now = utcnow()
    enrolled = 0
    for event in events:
        event.processed_at = now
        enrolled += _enroll_lead(session, event.aggregate_id, sequences, settings, now)
    session.flush()
    if events:
        log.info("nurture.enrolled events=%s enrollments=%s", len(events), enrolled)
    return len(events)


def _enroll_lead(
    session: Session,
    lead_id: uuid.UUID,
    sequences: SequenceSet,
    settings: Settings,
    now: dt.datetime,
) -> int:
    lead = session.get(Lead, lead_id)
    if lead is None or _suppressed(session, lead.email_index):
        return 0
    if not may_use(session, lead_id, Purpose.EMAIL_NURTURE):
        return 0
    existing = set(
        session.scalars(
            select(NurtureEnrollment.sequence).where(
                NurtureEnrollment.lead_id == lead_id
            )
        )
    )
    count = 0
    for sequence in sequences:
        if sequence.name in existing:
            continue
        if not sequence.audience.matches(
            tier=lead.tier,
            score=lead.score,
            qualifying={
                "company_size": lead.company_size,
                "timeline": lead.timeline,
                "budget": lead.budget,
            },
        ):
            continue
        session.add(
            NurtureEnrollment(
                lead_id=lead_id,
                sequence=sequence.name,
                state=EnrollmentState.ACTIVE,
                next_step=0,
                next_due_at=first_due_at(sequence, lead, now, settings),
                status_at_enrollment=lead.status,
            )
        )
        count += 1
    return count


def claim_due_steps(
    session: Session, settings: Settings, limit: int, now: dt.datetime | None = None
) -> list[int]:
    """Claim up to ``limit`` due enrollments and write their send records.

    Each claimed enrollment gets one ``queued`` send record for its next
    step, with a fixed Message-ID, and loses its ``next_due_at`` in the
    same transaction.

    Returns:
        The ids of the new send records.
    """
    now = now or utcnow()
    due = session.execute(
        _skip_locked(
            session,
            select(
                NurtureEnrollment.id,
                NurtureEnrollment.lead_id,
                NurtureEnrollment.next_step,
            )
            .where(NurtureEnrollment.next_due_at <= now)
            .order_by(NurtureEnrollment.next_due_at)
            .limit(limit),
        )
    ).all()
    if not due:
        return []
    session.execute(
        update(NurtureEnrollment)
        .where(NurtureEnrollment.id.in_([row.id for row in due]))
        .values(next_due_at=None)
        .execution_options(synchronize_session=False)
    )
    created = session.scalars(
        insert(NurtureSend).returning(NurtureSend.id),
        [
            {
                "enrollment_id": row.id,
                "lead_id": row.lead_id,
                "step": row.next_step,
                "message_id": new_message_id(settings),
                "state": SendState.QUEUED,
                "attempts": 0,
                "due_at": now,
                "created_at": now,
            }
            for row in due
        ],
    )
    return list(created)


def dispatch_due_sends(
    session: Session, settings: Settings, limit: int, now: dt.datetime | None = None
) -> list[int]:
    """Pick queued sends that are due and push their next check forward.

    A dispatched send becomes due again after
    ``LEADGUARD_NURTURE_REDISPATCH_SECONDS``, so a task lost with its worker
    (or with the embedded broker) is sent again by a later tick. A second
    task for a send is harmless: only one worker can claim it.

    Returns:
        The ids to publish once this transaction has committed.
    """
    now = now or utcnow()
    ids = list(
        session.scalars(
            _skip_locked(
                session,
                select(NurtureSend.id)
                .where(NurtureSend.due_at <= now)
                .where(NurtureSend.state == SendState.QUEUED)
                .order_by(NurtureSend.due_at)
                .limit(limit),
            )
        )
    )
    if ids:
        session.execute(
            update(NurtureSend)
            .where(NurtureSend.id.in_(ids))
            .values(
                dispatched_at=now,
                due_at=now + dt.timedelta(seconds=settings.nurture_redispatch_seconds),
            )
            .execution_options(synchronize_session=False)
        )
    return ids


def sweep_lost_claims(
    session: Session,
    sequences: SequenceSet,
    settings: Settings,
    limit: int,
    now: dt.datetime | None = None,
) -> int:
    """Settle sends whose worker died after claiming them.

    A claim is written just before the final ``.`` of the SMTP DATA phase,
    so a claimed send was, in all likelihood, accepted by the relay. It is
    marked ``unconfirmed`` (never sent again) and its enrollment moves on.

    Returns:
        How many sends were settled.
    """
    now = now or utcnow()
    lost = list(
        session.scalars(
            _skip_locked(
                session,
                select(NurtureSend)
                .where(NurtureSend.due_at <= now)
                .where(NurtureSend.state == SendState.SENDING)
                .limit(limit),
            )
        )
    )
    for send in lost:
        send.state = SendState.UNCONFIRMED
        send.due_at = None
        enrollment = session.get(NurtureEnrollment, send.enrollment_id)
        lead = session.get(Lead, send.lead_id)
        if enrollment is not None and lead is not None:
            sequence = sequences.get(enrollment.sequence)
            advance_enrollment(enrollment, sequence, lead, now, settings)
    if lost:
        log.warning("nurture.claims.unconfirmed count=%s", len(lost))
    return len(lost)


def _chunks(ids: Sequence[int], size: int) -> list[list[int]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


def run_tick(
    sessions: sessionmaker[Session],
    sequences: SequenceSet,
    settings: Settings,
    publish: Publish,
    *,
    max_batches: int = 100,
) -> TickReport:
    """Run one tick: enroll, claim, dispatch (publishing), sweep.

    Each batch commits before its tasks are published, so a task never
    names a send record that is not in the database.
    """
    report = TickReport()
    batch = settings.nurture_batch_size
    for _ in range(max_batches):
        with sessions.begin() as session:
            done = enroll_from_outbox(session, sequences, settings, batch)
        report.enrolled += done
        if done < batch:
            break
    for _ in range(max_batches):
        with sessions.begin() as session:
            claimed = claim_due_steps(session, settings, batch)
        report.claimed += len(claimed)
        if len(claimed) < batch:
            break
    for _ in range(max_batches):
        with sessions.begin() as session:
            ids = dispatch_due_sends(session, settings, batch)
        for chunk in _chunks(ids, DISPATCH_CHUNK):
            publish(chunk)
        report.dispatched += len(ids)
        if len(ids) < batch:
            break
    with sessions.begin() as session:
        report.swept = sweep_lost_claims(session, sequences, settings, batch)
    log.info(
        "nurture.tick enrolled=%s claimed=%s dispatched=%s swept=%s",
        report.enrolled,
        report.claimed,
        report.dispatched,
        report.swept,
    )
    return report
