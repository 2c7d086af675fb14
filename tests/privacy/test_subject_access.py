"""The access export holds what every store holds, field by field."""

from __future__ import annotations

from sqlalchemy import select

from leads.consent import consent_history
from leads.models import AuditEvent
from leads.subject_access import FORMAT, export_subject_everywhere, render_subject_html
from tests.privacy.conftest import World


def _export(world: World) -> dict[str, object]:
    assert world.subject is not None
    return export_subject_everywhere(
        world.vault,
        world.subject.lead_id,
        actor="user:officer",
        settings=world.settings,
        stores=world.stores,
    )


def test_export_matches_every_store_field_by_field(world: World) -> None:
    from nurture.models import NurtureSend

    subject = world.subject
    assert subject is not None
    document = _export(world)
    vault = world.vault

    assert document["format"] == FORMAT
    assert document["unreachable"] == {}
    with vault.sessions() as session:
        fields = vault.read_personal(session, subject.lead_id)
        consents = consent_history(session, subject.lead_id)
        sends = session.scalars(
            select(NurtureSend)
            .where(NurtureSend.lead_id == subject.lead_id)
            .order_by(NurtureSend.id)
        ).all()
        audit = session.scalars(
            select(AuditEvent).where(AuditEvent.target_id == str(subject.lead_id))
        ).all()
    assert document["fields"] == {
        name: value.reveal() if value else None for name, value in fields.items()
    }
    assert document["fields"]["email"] == subject.email
    assert [(c["purpose"], c["granted"]) for c in document["consents"]] == [
        (c.purpose, c.granted) for c in consents
    ]
    assert sorted(document["chat_sessions"]) == sorted(subject.chat_ids)
    assert [(e["message_id"], e["state"], e["step"]) for e in document["emails"]] == [
        (s.message_id, s.state, s.step) for s in sends
    ]
    assert [n["body"] for n in document["notes"]] == [subject.note_body]
    assert document["records"]["nurture_enrollments"][0]["sequence"] == "welcome"

    transcripts = {t["chat_session_id"]: t["events"] for t in document["transcripts"]}
    assert sorted(transcripts) == sorted(subject.chat_ids)
    for chat_id in subject.chat_ids:
        assert transcripts[chat_id] == world.tracker._call(
            "export_conversation", chat_id
        )
        assert subject.name in transcripts[chat_id][0]["text"]

    mails = document["mail_folder"]
    assert len(mails) == 2
    assert all(subject.email in m["to"] and subject.name in m["text"] for m in mails)

    actions = [e["action"] for e in document["audit_events"]]
    assert actions.count("subject.exported") == 1
    assert [e.action for e in audit] == actions
    assert document["audit_events"][-1]["actor"] == "user:officer"


def test_export_of_one_subject_holds_nothing_of_another(world: World) -> None:
    bystander = world.bystander
    assert bystander is not None
    text = str(_export(world))
    for marker in bystander.markers + bystander.chat_ids:
        assert marker not in text


def test_html_page_escapes_what_the_subject_typed(world: World) -> None:
    subject = world.subject
    assert subject is not None
    page = render_subject_html(_export(world))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert subject.email in page and "Your consent choices" in page
