"""Erasure reaches every store, leaves nothing readable, and can be re-run."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from leads.audit import verify_chain
from leads.erasure import (
    erase_subject_by_email,
    erase_subject_everywhere,
    resume_erasures,
)
from leads.erasure_job import ErasureJob, ErasureStatus
from leads.errors import NotFoundError
from leads.importer import import_leads
from leads.models import AuditEvent, Lead, Suppression
from leads.privacy_stores import ErasureTarget
from nurture.models import NurtureEnrollment
from nurture.scheduler import enroll_from_outbox
from nurture.sequences import default_sequences
from nurture.suppression import is_lead_suppressed
from tests.privacy.conftest import REDIS_URL, World
from tests.privacy.scanning import (
    hits_in_files,
    hits_in_folder,
    hits_in_redis,
    pg_dump_bytes,
)


def _erase(world: World, **options: Any) -> Any:
    assert world.subject is not None
    return erase_subject_everywhere(
        world.vault,
        world.subject.lead_id,
        actor="cli",
        channel="cli",
        settings=world.settings,
        stores=options.pop("stores", world.stores),
        deep_verify=True,
        extra_files=world.tracker.files(),
        **options,
    )


def _leftovers(world: World) -> list[str]:
    """Search every store, raw, for the subject's values and ids."""
    subject = world.subject
    assert subject is not None
    markers = subject.markers
    found = hits_in_files(world.database_files, markers)
    found += hits_in_files(world.tracker.files(), markers + subject.chat_ids)
    found += hits_in_folder(world.mail.folder, [*markers, str(subject.lead_id)])
    found += hits_in_redis(
        REDIS_URL,
        world.redis_prefix,
        markers + subject.chat_ids + [str(subject.lead_id)],
    )
    if not world.settings.is_sqlite:
        dump = pg_dump_bytes(world.settings.database_url)
        found += [f"pg_dump:{m}" for m in markers if m.encode() in dump]
        found += [f"pg_dump:{m}" for m in markers if m.lower().encode() in dump]
    return found


def _values_present_before(world: World) -> None:
    subject = world.subject
    assert subject is not None
    before = _leftovers(world)
    assert any(subject.email in hit for hit in before)
    assert any(subject.chat_ids[0] in hit for hit in before)
    assert len(world.mail.subject_messages(_target(world))) == 2
    target = _target(world)
    assert len(world.tracker.export(target)) == 2


def _target(world: World) -> ErasureTarget:
    subject = world.subject
    assert subject is not None
    with world.vault.sessions() as session:
        index = session.scalar(
            select(Lead.email_index).where(Lead.id == subject.lead_id)
        )
    return ErasureTarget(subject.lead_id, index, tuple(subject.chat_ids))


def test_erasure_reaches_every_store_and_leaves_nothing(world: World) -> None:
    subject, bystander = world.subject, world.bystander
    assert subject is not None and bystander is not None
    _values_present_before(world)

    outcome = _erase(world)

    assert outcome.unreachable == {}
    assert outcome.verification is not None and outcome.verification.clean, (
        outcome.verification.findings
    )
    removed = outcome.removed
    assert removed["tracker_store"] == 2
    assert removed["mail_folder"] == 2
    assert removed["redis"] == 2
    assert removed["nurture_sends"] == 2
    assert removed["nurture_enrollments"] == 1
    assert removed["lead_notes"] == 1
    assert removed["leads"] == 1 and removed["data_keys"] == 1
    assert removed["chat_session_links"] == 2
    assert removed["consent_records"] == 4
    assert _leftovers(world) == []

    with world.vault.sessions() as session:
        assert verify_chain(session).ok
        erased = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "subject.erased")
        ).all()
        assert [e.target_id for e in erased] == [str(subject.lead_id)]
        job = session.scalar(select(ErasureJob))
        assert job is not None and job.status == ErasureStatus.COMPLETED
        assert job.email_index is None
        bystander_fields = world.vault.read_personal(session, bystander.lead_id)
    assert bystander_fields["name"] is not None
    assert bystander_fields["name"].reveal() == bystander.name
    assert (
        len(
            world.tracker.export(
                ErasureTarget(bystander.lead_id, None, tuple(bystander.chat_ids))
            )
        )
        == 2
    )
    assert hits_in_folder(world.mail.folder, [bystander.email]) != []


def test_suppression_blocks_a_reimport_from_being_emailed(world: World) -> None:
    subject = world.subject
    assert subject is not None
    _erase(world)
    record = {
        "name": subject.name,
        "email": subject.email,
        "company": "Again Sdn Bhd",
        "job_title": "CTO",
        "company_size": "201-1000",
        "timeline": "this_month",
        "budget": "over_200k",
        "consents": [
            {
                "purpose": purpose,
                "granted": True,
                "notice_version": "1",
                "recorded_at": "2026-11-01T09:00:00+08:00",
            }
            for purpose in ("sales_contact", "email_nurture")
        ],
    }
    control = dict(record, email="control.lead@example.org")
    report = import_leads(world.vault, [json.dumps(record), json.dumps(control)])
    assert report.created == 2
    with world.vault.sessions.begin() as session:
        again = world.vault.find_lead_id(session, subject.email)
        fresh = world.vault.find_lead_id(session, "control.lead@example.org")
        assert again is not None and again != subject.lead_id
        assert world.vault.is_suppressed(session, subject.email)
        assert is_lead_suppressed(session, again)
        reasons = session.scalars(select(Suppression.reason)).all()
        enroll_from_outbox(session, default_sequences(), world.settings, 100)
        enrolled = set(session.scalars(select(NurtureEnrollment.lead_id)))
    assert reasons == ["erased"]
    assert fresh in enrolled
    assert again not in enrolled


def test_erasure_is_idempotent(world: World) -> None:
    first = _erase(world)
    second = _erase(world)
    assert second.already_erased and second.total_removed == 0
    assert second.verification is not None and second.verification.clean
    assert first.lead_id == second.lead_id
    with world.vault.sessions() as session:
        events = session.scalar(
            select(func.count()).where(AuditEvent.action == "subject.erased")
        )
        assert events == 1
        assert verify_chain(session).ok


class _CrashingStore:
    """Wraps a store; the erase call number ``crash_on`` raises."""

    def __init__(self, inner: Any, crash_on: int) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls = 0
        self.crash_on = crash_on

    def unavailable(self) -> str | None:
        return self.inner.unavailable()

    def erase(self, target: ErasureTarget) -> int:
        self.calls += 1
        if self.calls == self.crash_on:
            raise RuntimeError("simulated crash")
        return int(self.inner.erase(target))

    def remaining(self, target: ErasureTarget) -> list[str]:
        return list(self.inner.remaining(target))

    def export(self, target: ErasureTarget) -> list[dict[str, Any]]:
        return list(self.inner.export(target))


@pytest.mark.parametrize("crash_on", [1, 2], ids=["before-database", "after-database"])
def test_crash_half_way_then_rerun_completes(world: World, crash_on: int) -> None:
    subject = world.subject
    assert subject is not None
    crashing = _CrashingStore(world.mail, crash_on)
    with pytest.raises(RuntimeError):
        _erase(world, stores=[world.tracker, world.redis_store, crashing])
    with world.vault.sessions() as session:
        job = session.scalar(select(ErasureJob))
        assert job is not None and job.status == ErasureStatus.RUNNING
        lead_left = session.get(Lead, subject.lead_id) is not None
    assert lead_left is (crash_on == 1)

    if crash_on == 1:
        outcome = _erase(world)
    else:
        outcome = erase_subject_by_email(
            world.vault,
            subject.email,
            actor="cli",
            channel="cli",
            settings=world.settings,
            stores=world.stores,
            deep_verify=True,
        )
    assert outcome is not None and not outcome.already_erased
    assert outcome.verification is not None and outcome.verification.clean
    assert _leftovers(world) == []
    assert resume_erasures(world.vault, settings=world.settings) == []
    with world.vault.sessions() as session:
        job = session.scalar(select(ErasureJob))
        assert job is not None and job.status == ErasureStatus.COMPLETED
        assert job.attempts == 2
        assert verify_chain(session).ok


def test_unknown_subject_is_not_found(world: World) -> None:
    with pytest.raises(NotFoundError):
        erase_subject_everywhere(
            world.vault,
            uuid.uuid4(),
            actor="cli",
            channel="cli",
            settings=world.settings,
            stores=world.stores,
        )


def test_deep_verification_names_a_leak_it_did_not_erase(world: World) -> None:
    from leads.audit import record_audit

    subject = world.subject
    assert subject is not None
    with world.vault.sessions.begin() as session:
        record_audit(session, actor=subject.email, action="bug.leaked")
    outcome = _erase(world)
    assert outcome.verification is not None
    assert not outcome.verification.clean
    assert "audit_events.actor" in outcome.verification.findings
    assert subject.email not in " ".join(outcome.verification.findings)


def test_two_concurrent_erasures_of_one_subject_both_succeed(world: World) -> None:
    import threading

    errors: list[BaseException] = []

    def erase() -> None:
        try:
            _erase(world)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=erase) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with world.vault.sessions() as session:
        events = session.scalar(
            select(func.count()).where(AuditEvent.action == "subject.erased")
        )
        assert events == 1
        assert verify_chain(session).ok
    assert _leftovers(world) == []


def test_a_leak_leaves_the_job_unverified_and_the_request_open(world: World) -> None:
    from leads.audit import record_audit
    from leads.models import PrivacyRequest

    subject = world.subject
    assert subject is not None
    with world.vault.sessions.begin() as session:
        record_audit(session, actor=subject.email, action="bug.leaked")
        session.add(
            PrivacyRequest(kind="erasure", channel="web", lead_id=subject.lead_id)
        )
    _erase(world)
    with world.vault.sessions() as session:
        job = session.scalar(select(ErasureJob))
        request = session.scalar(select(PrivacyRequest))
    assert job is not None and job.status == ErasureStatus.UNVERIFIED
    assert job.email_index is not None
    assert request is not None and request.status != "completed"
