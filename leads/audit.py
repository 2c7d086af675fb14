"""The append-only, hash-chained audit log.

Each event's hash covers its own fields and the previous event's hash, so
changing, deleting, inserting or reordering a row breaks the chain from that
row on. Events hold ids and action names only, never personal data.

Limits: the chain alone cannot tell that the newest events were cut off the
end. On PostgreSQL the application's role has no UPDATE or DELETE grant on
the table (see the README), which closes that gap for the application.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from leads.errors import InvalidInputError
from leads.models import AuditEvent, utcnow

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
AUDIT_LOCK_ID = 0x1EAD_A0D1
MAX_LABEL = 80


def _event_hash(event: AuditEvent) -> str:
    body = json.dumps(
        [
            event.id,
            event.prev_hash,
            event.occurred_at.isoformat(),
            event.actor,
            event.action,
            event.target_id,
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record_audit(
    session: Session, *, actor: str, action: str, target_id: str | None = None
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction.

    ``actor`` and ``target_id`` must be ids (``user:<uuid>``, ``system``,
    a lead id), never names or addresses.

    Raises:
        InvalidInputError: a label is empty or too long.
    """
    for name, value in (("actor", actor), ("action", action)):
        if not value or len(value) > MAX_LABEL:
            raise InvalidInputError(name, "must be 1 to 80 characters")
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_ID}
        )
    last = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    event = AuditEvent(
        id=(last.id + 1) if last else 1,
        prev_hash=last.hash if last else GENESIS_HASH,
        occurred_at=utcnow(),
        actor=actor,
        action=action,
        target_id=target_id,
    )
    event.hash = _event_hash(event)
    session.add(event)
    session.flush()
    log.info("audit.recorded action=%s id=%s", action, event.id)
    return event


@dataclass(frozen=True)
class ChainReport:
    """The outcome of :func:`verify_chain`."""

    checked: int
    first_bad_id: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        """Whether every event checked out."""
        return self.first_bad_id is None


def _events_in_order(session: Session, batch: int) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        rows = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.id > last_id)
                .order_by(AuditEvent.id)
                .limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        session.expunge_all()


def verify_chain(session: Session, *, batch: int = 5000) -> ChainReport:
    """Walk the chain and name the first event that does not check out.

    Detects an altered row (its hash no longer matches), a deleted row (a
    gap in the ids and a broken link), an inserted row and a reordering (a
    broken link to the previous hash).
    """
    expected_prev = GENESIS_HASH
    expected_id = 1
    checked = 0
    for event in _events_in_order(session, batch):
        if event.id != expected_id:
            return ChainReport(checked, event.id, "an event before it is missing")
        if event.prev_hash != expected_prev:
            return ChainReport(checked, event.id, "it does not follow its predecessor")
        if _event_hash(event) != event.hash:
            return ChainReport(checked, event.id, "its content was altered")
        expected_prev = event.hash
        expected_id += 1
        checked += 1
    return ChainReport(checked)
