"""Retention periods remove old records of each kind; a dry run changes nothing."""

from __future__ import annotations

import datetime as dt
import os
import time

from sqlalchemy import func, select, update

from leads.models import AuditEvent, Lead
from leads.privacy_stores import ErasureTarget
from leads.retention import run_retention
from tests.privacy.conftest import Subject, World
from tests.privacy.scanning import hits_in_folder


def _age(world: World, who: Subject, days: int, *, unqualify: bool) -> None:
    """Make a subject's records look ``days`` old in every store."""
    from nurture.models import NurtureEnrollment, NurtureSend

    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    with world.vault.sessions.begin() as session:
        if unqualify:
            session.execute(
                update(Lead)
                .where(Lead.id == who.lead_id)
                .values(qualified_at=None, updated_at=past, created_at=past)
            )
        session.execute(
            update(NurtureSend)
            .where(NurtureSend.lead_id == who.lead_id)
            .values(sent_at=past, created_at=past)
        )
        session.execute(
            update(NurtureEnrollment)
            .where(NurtureEnrollment.lead_id == who.lead_id)
            .values(state="completed", updated_at=past)
        )
        index = session.scalar(select(Lead.email_index).where(Lead.id == who.lead_id))
    repository = world.tracker._repository()
    try:
        for chat_id in who.chat_ids:
            events = repository.load(chat_id)
            repository.save(chat_id, events, now=time.time() - days * 86_400)
    finally:
        repository.close()
    for path in world.mail.subject_messages(ErasureTarget(who.lead_id, index)):
        os.utime(path, (time.time() - days * 86_400,) * 2)


def _counts(world: World) -> dict[str, int]:
    return {
        item.kind: item.due
        for item in run_retention(
            world.vault, dry_run=True, settings=world.settings, stores=world.stores
        ).items
    }


def test_dry_run_lists_what_would_go_and_changes_nothing(world: World) -> None:
    assert _counts(world) == {
        "unqualified_leads": 0,
        "transcripts": 0,
        "email_records": 0,
        "audit_log": 0,
    }
    assert world.bystander is not None
    _age(world, world.bystander, 400, unqualify=True)
    with world.vault.sessions() as session:
        leads_before = session.scalar(select(func.count()).select_from(Lead))
    assert _counts(world) == {
        "unqualified_leads": 1,
        "transcripts": 2,
        "email_records": 5,
        "audit_log": 0,
    }
    with world.vault.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == leads_before


def test_run_removes_what_is_past_its_period_only(world: World) -> None:
    from nurture.models import NurtureEnrollment, NurtureSend

    subject, bystander = world.subject, world.bystander
    assert subject is not None and bystander is not None
    _age(world, bystander, 400, unqualify=True)
    _age(world, subject, 400, unqualify=False)
    report = run_retention(
        world.vault, dry_run=False, settings=world.settings, stores=world.stores
    )
    assert report.erased_leads == [bystander.lead_id]
    removed = {i.kind: i.removed for i in report.items}
    assert removed == {
        "unqualified_leads": 1,
        "transcripts": 2,
        "email_records": 5,
        "audit_log": 0,
    }
    with world.vault.sessions() as session:
        assert session.get(Lead, bystander.lead_id) is None
        assert session.get(Lead, subject.lead_id) is not None
        for model in (NurtureSend, NurtureEnrollment):
            left = select(func.count()).where(model.lead_id == subject.lead_id)
            assert session.scalar(left) == 0
        erased = session.scalars(
            select(AuditEvent.actor).where(AuditEvent.action == "subject.erased")
        ).all()
    assert erased == ["system:retention"]
    assert hits_in_folder(world.mail.folder, [subject.email, bystander.email]) == []
    assert (
        world.tracker.export(
            ErasureTarget(subject.lead_id, None, tuple(subject.chat_ids))
        )
        == []
    )
    assert _counts(world) == {
        "unqualified_leads": 0,
        "transcripts": 0,
        "email_records": 0,
        "audit_log": 0,
    }


def test_old_audit_events_are_counted_but_kept(world: World) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=3000)
    with world.vault.sessions.begin() as session:
        session.execute(
            update(AuditEvent).where(AuditEvent.id == 1).values(occurred_at=past)
        )
    report = run_retention(
        world.vault, dry_run=False, settings=world.settings, stores=world.stores
    )
    audit = next(i for i in report.items if i.kind == "audit_log")
    assert audit.due == 1 and audit.removed == 0 and "anchor" in audit.note


def test_the_periodic_task_is_on_the_beat_schedule() -> None:
    from nurture.celery_app import app

    app.loader.import_default_modules()
    entry = app.conf.beat_schedule["privacy-retention"]
    assert entry["task"] == "privacy.retention"
    assert "privacy.retention" in app.tasks


def test_records_of_visitors_who_never_became_leads_expire(world: World) -> None:
    from leads.consent import ConsentAnswer, record_consent
    from leads.models import CallbackRequest, ConsentRecord, Purpose

    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    with world.vault.sessions.begin() as session:
        record_consent(
            session,
            ConsentAnswer(Purpose.SALES_CONTACT, False, "1", "chat", recorded_at=past),
            chat_session_id="anonymous-visitor",
        )
        session.add(
            CallbackRequest(chat_session_id="anonymous-visitor", created_at=past)
        )
        linked_before = session.scalar(
            select(func.count()).where(ConsentRecord.chat_session_id.is_not(None))
        )
    report = run_retention(
        world.vault, dry_run=False, settings=world.settings, stores=world.stores
    )
    transcripts = next(i for i in report.items if i.kind == "transcripts")
    assert transcripts.removed == 2
    with world.vault.sessions() as session:
        left = session.scalar(
            select(func.count()).where(ConsentRecord.chat_session_id.is_not(None))
        )
        callbacks = session.scalar(select(func.count()).select_from(CallbackRequest))
    assert left == linked_before - 1 and callbacks == 0
