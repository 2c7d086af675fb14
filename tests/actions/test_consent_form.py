"""Consent questions: every answer reaches the ledger at once, per purpose."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.consent_form import (
    ActionAskConsentSales,
    ActionConsentOutcome,
    ValidateConsentForm,
)
from leads.models import ConsentRecord
from leads.notices import current_notice
from leads.vault import Vault
from tests.actions.conftest import make_tracker, slot_events, texts_of


async def test_asking_links_the_notice_and_remembers_its_version(
    dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(intent="start_enquiry", active_loop="consent_form")
    events = await ActionAskConsentSales().run(dispatcher, tracker, domain)
    notice = current_notice()
    said = texts_of(dispatcher)[0]
    assert f"version {notice.version}" in said
    assert "/privacy/notice" in said
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == [
        "/affirm",
        "/deny",
    ]
    assert slot_events(events) == {"notice_version": notice.version}


async def test_each_answer_is_recorded_immediately(
    vault: Vault, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    action = ValidateConsentForm()
    sales = make_tracker(
        text="yes",
        intent="affirm",
        active_loop="consent_form",
        requested_slot="consent_sales",
        slots={"notice_version": "1"},
        new_slots={"consent_sales": True},
    )
    events = await action.run(dispatcher, sales, domain)
    assert slot_events(events)["consent_sales"] is True

    email = make_tracker(
        text="no emails please",
        intent="deny",
        active_loop="consent_form",
        requested_slot="consent_email",
        slots={"notice_version": "1", "consent_sales": True},
        new_slots={"consent_email": False},
    )
    events = await action.run(dispatcher, email, domain)
    assert slot_events(events)["consent_email"] is False

    with vault.sessions() as session:
        records = list(
            session.scalars(select(ConsentRecord).order_by(ConsentRecord.id))
        )
    assert [(r.purpose, r.granted) for r in records] == [
        ("sales_contact", True),
        ("email_nurture", False),
    ]
    assert {r.chat_session_id for r in records} == {"chat-session-0001"}
    assert {r.notice_version for r in records} == {"1"}
    assert {r.notice_sha256 for r in records} == {current_notice().sha256}
    assert {r.channel for r in records} == {"chat"}


async def test_refusing_both_allows_nothing_and_asks_again_later(
    dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(
        intent="deny",
        active_loop=None,
        slots={"consent_sales": False, "consent_email": False},
    )
    events = await ActionConsentOutcome().run(dispatcher, tracker, domain)
    assert slot_events(events) == {
        "may_collect": False,
        "consent_sales": None,
        "consent_email": None,
    }
    assert "won't ask for or keep any personal details" in texts_of(dispatcher)[0]


async def test_sales_without_email_still_opens_the_form(
    dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(
        active_loop=None, slots={"consent_sales": True, "consent_email": False}
    )
    events = await ActionConsentOutcome().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"may_collect": True}
    assert "won't send follow-up emails" in texts_of(dispatcher)[0]
