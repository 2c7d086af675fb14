"""The lead form's validation: messy answers, corrections, free mail, skips."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.digressions import ActionExplainField, ActionHandleSkip, ActionStopForm
from actions.lead_form import PHONE_SKIPPED, ActionAskCompanySize, ValidateLeadForm
from tests.actions.conftest import make_tracker, slot_events, texts_of


async def validate(
    dispatcher: CollectingDispatcher,
    domain: dict[str, Any],
    **tracker: Any,
) -> dict[str, Any]:
    events = await ValidateLeadForm().run(dispatcher, make_tracker(**tracker), domain)
    return slot_events(events)


@pytest.mark.parametrize(
    ("slot", "typed", "stored"),
    [
        ("name", "my name is Ana Lim", "Ana Lim"),
        ("name", "  Tan   Wei Ming ", "Tan Wei Ming"),
        ("company", "I work at Acme Sdn Bhd", "Acme Sdn Bhd"),
        ("job_title", "I'm the CTO", "CTO"),
        ("email", "it's Ana.Lim@Acme.COM.my", "ana.lim@acme.com.my"),
        ("phone", "012-345 6789", "+60123456789"),
        ("phone", "+65 6123 4567", "+6561234567"),
        ("company_size", "about 80 of us", "51-200"),
        ("company_size", "1000+", "1000+"),
        ("timeline", "asap please", "this_month"),
        ("timeline", "this_year", "this_year"),
        ("budget", "around RM 20k", "10k_50k"),
        ("budget", "over_200k", "over_200k"),
    ],
)
async def test_messy_answers_are_cleaned(
    dispatcher: CollectingDispatcher,
    domain: dict[str, Any],
    slot: str,
    typed: str,
    stored: str,
) -> None:
    slots = await validate(
        dispatcher, domain, text=typed, requested_slot=slot, new_slots={slot: typed}
    )
    assert slots[slot] == stored


@pytest.mark.parametrize(
    ("slot", "typed"),
    [
        ("email", "not an address"),
        ("email", "ana@"),
        ("phone", "12"),
        ("company_size", "lots"),
        ("budget", "dunno"),
        ("name", "[card number removed]"),
    ],
)
async def test_invalid_answers_are_asked_again(
    dispatcher: CollectingDispatcher, domain: dict[str, Any], slot: str, typed: str
) -> None:
    slots = await validate(
        dispatcher, domain, text=typed, requested_slot=slot, new_slots={slot: typed}
    )
    assert slots[slot] is None
    assert texts_of(dispatcher), "the visitor is not told why"


async def test_a_free_mail_address_is_questioned_once_then_accepted(
    dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    first = await validate(
        dispatcher,
        domain,
        text="ana.lim@gmail.com",
        requested_slot="email",
        new_slots={"email": "ana.lim@gmail.com"},
    )
    assert first == {"email": None, "freemail_offered": "ana.lim@gmail.com"}
    assert "personal address" in texts_of(dispatcher)[0]

    again = await validate(
        CollectingDispatcher(),
        domain,
        text="yes",
        intent="affirm",
        requested_slot="email",
        slots={"freemail_offered": "ana.lim@gmail.com"},
        new_slots={"email": "yes"},
    )
    assert again["email"] == "ana.lim@gmail.com"


async def test_a_correction_replaces_an_earlier_answer(
    dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    slots = await validate(
        dispatcher,
        domain,
        text="sorry, my email is ana@acme.com.my",
        intent="correct",
        requested_slot="job_title",
        slots={"name": "Ana Lim", "email": "ana@acme.co", "company": "Acme"},
    )
    assert slots["email"] == "ana@acme.com.my"
    assert "updated" in " ".join(texts_of(dispatcher))


async def test_a_correction_of_another_field_by_name(
    dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    slots = await validate(
        dispatcher,
        domain,
        text="actually my company is Globex Berhad",
        intent="correct",
        requested_slot="job_title",
        slots={"name": "Ana Lim", "email": "ana@acme.com.my", "company": "Acme"},
    )
    assert slots["company"] == "Globex Berhad"


async def test_an_unclear_correction_asks_which_field(
    dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    slots = await validate(
        dispatcher,
        domain,
        text="sorry that was wrong",
        intent="correct",
        requested_slot="company",
        slots={"name": "Ana Lim"},
    )
    assert "company" in slots and slots["company"] is None
    assert "Which detail" in texts_of(dispatcher)[-1]


async def test_removed_numbers_are_announced_and_never_stored(
    dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    text = "a CRM, you can bill [card number removed]"
    slots = await validate(
        dispatcher,
        domain,
        text=text,
        requested_slot="need",
        new_slots={"need": text},
        metadata={"leadguard": {"redacted": ["card"]}},
    )
    assert slots["need"] == "a CRM, you can bill"
    assert "removed a payment card number" in texts_of(dispatcher)[0]


async def test_band_questions_offer_the_scoring_bands_as_buttons(
    dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    await ActionAskCompanySize().run(dispatcher, make_tracker(), domain)
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert payloads == ["1-10", "11-50", "51-200", "201-1000", "1000+"]


async def test_skipping_the_phone_is_allowed(
    dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(text="skip", intent="skip", requested_slot="phone")
    events = await ActionHandleSkip().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"phone": PHONE_SKIPPED}
    kept = await validate(
        CollectingDispatcher(),
        domain,
        text="skip",
        requested_slot="phone",
        new_slots={"phone": PHONE_SKIPPED},
    )
    assert kept["phone"] == PHONE_SKIPPED


async def test_skipping_a_required_field_explains_why_not(
    dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(text="skip", intent="skip", requested_slot="email")
    events = await ActionHandleSkip().run(dispatcher, tracker, domain)
    assert events == []
    assert "I need this one" in texts_of(dispatcher)[0]


async def test_why_explains_the_field_being_asked(
    dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(text="why?", intent="ask_why", requested_slot="phone")
    await ActionExplainField().run(dispatcher, tracker, domain)
    assert "optional" in texts_of(dispatcher)[0]


async def test_stop_deactivates_the_form_and_keeps_the_answers(
    dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(
        text="stop", intent="stop", requested_slot="email", slots={"name": "Ana"}
    )
    events = await ActionStopForm().run(dispatcher, tracker, domain)
    assert {"event": "active_loop", "name": None} in [
        {k: e.get(k) for k in ("event", "name")} for e in events
    ]
    assert "name" not in slot_events(events)
    assert "continue" in texts_of(dispatcher)[0]
