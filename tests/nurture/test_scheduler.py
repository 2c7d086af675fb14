"""Claiming due steps: each exactly once, however many ticks overlap."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from leads.database import session_factory
from leads.models import OutboxEvent
from leads.settings import Settings
from leads.vault import Vault
from nurture.models import NurtureEnrollment, NurtureSend, SendState
from nurture.scheduler import (
    claim_due_steps,
    dispatch_due_sends,
    enroll_from_outbox,
    sweep_lost_claims,
)
from nurture.sequences import load_sequences
from tests.nurture.bulk import add_bare_enrollments
from tests.nurture.conftest import add_lead

WORKERS = 4
BATCH = 25


def test_overlapping_claims_take_each_due_step_once(db_settings: Settings) -> None:
    sessions = session_factory(db_settings)
    with sessions.begin() as session:
        add_bare_enrollments(session, 300, due=True)
        add_bare_enrollments(session, 100, due=False)
    claimed: list[list[int]] = [[] for _ in range(WORKERS)]
    failures: list[BaseException] = []

    def claim_until_empty(slot: int) -> None:
        try:
            while True:
                with sessions.begin() as session:
                    ids = claim_due_steps(session, db_settings, BATCH)
                if not ids:
                    return
                claimed[slot].extend(ids)
        except BaseException as exc:
            failures.append(exc)

    threads = [
        threading.Thread(target=claim_until_empty, args=(i,)) for i in range(WORKERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    every = [send_id for ids in claimed for send_id in ids]
    assert len(every) == 300 == len(set(every))
    with sessions() as session:
        pairs = session.execute(
            select(NurtureSend.enrollment_id, NurtureSend.step)
        ).all()
        assert len(pairs) == 300 == len(set(pairs))
        waiting = session.scalar(
            select(func.count())
            .select_from(NurtureEnrollment)
            .where(NurtureEnrollment.next_due_at.is_not(None))
        )
        assert waiting == 100


def test_dispatch_and_sweep(settings: Settings, tmp_path: Path) -> None:
    sessions = session_factory(settings)
    with sessions.begin() as session:
        add_bare_enrollments(session, 10, due=True)
        ids = claim_due_steps(session, settings, 100)
    with sessions.begin() as session:
        assert sorted(dispatch_due_sends(session, settings, 100)) == sorted(ids)
    with sessions.begin() as session:
        assert dispatch_due_sends(session, settings, 100) == []
        send = session.get(NurtureSend, ids[0])
        assert send is not None
        send.state = SendState.SENDING
        send.due_at = send.created_at
    with sessions.begin() as session:
        swept = sweep_lost_claims(session, load_sequences(tmp_path), settings, 100)
    assert swept == 1
    with sessions() as session:
        send = session.get(NurtureSend, ids[0])
        assert send is not None and send.state == SendState.UNCONFIRMED


@pytest.mark.parametrize("consent", [True, False])
def test_enrollment_only_from_outbox_with_consent(
    settings: Settings, consent: bool
) -> None:
    vault = Vault.from_settings(settings)
    add_lead(vault, consent=consent)
    add_lead(vault, consent=consent, tier="cold", score=5)
    from nurture.sequences import SEQUENCE_DIR

    sequences = load_sequences(SEQUENCE_DIR)
    with vault.sessions.begin() as session:
        assert enroll_from_outbox(session, sequences, settings, 10) == 2
    with vault.sessions.begin() as session:
        assert enroll_from_outbox(session, sequences, settings, 10) == 0
        enrolled = session.scalar(select(func.count()).select_from(NurtureEnrollment))
        pending = session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.processed_at.is_(None))
        )
    assert enrolled == (1 if consent else 0)
    assert pending == 0
