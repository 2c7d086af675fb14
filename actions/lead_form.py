"""The lead form: questions, extraction of corrections and validation.

Only these fields exist: name, work email, company, job title, company size
band, need, timeline, budget band and (optional) phone. Each answer is
validated here; an invalid one empties the slot and says why, so the form
asks again. A correction ("sorry, my email is ...") replaces the field it
names at any point of the form. A free-mail address is questioned once: a
visitor who sends it again (or says yes) keeps it, and the lead scores lower.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import texts
from actions.field_parsing import (
    Correction,
    find_email,
    is_free_mail,
    parse_budget,
    parse_company_size,
    parse_correction,
    parse_timeline,
)
from actions.message_facts import (
    entity_value,
    latest_intent,
    latest_text,
    redacted_kinds,
    value_before_latest_message,
    without_placeholders,
)
from bot.redaction import describe
from leads.blind_index import normalise_email
from leads.errors import InvalidInputError
from leads.scoring import default_rules
from leads.validation import clean_text, normalise_phone

log = logging.getLogger(__name__)

FORM_FIELDS = (
    "name",
    "email",
    "company",
    "job_title",
    "company_size",
    "need",
    "timeline",
    "budget",
    "phone",
)
PERSONAL_SLOTS = ("name", "email", "company", "job_title", "need", "phone")
PHONE_SKIPPED = "skipped"
BAND_PARSERS = {
    "company_size": parse_company_size,
    "timeline": parse_timeline,
    "budget": parse_budget,
}
_PREFIXES = {
    "name": r"(?:hi,?\s+)?(?:my name is|my name's|i am|i'm|im|it's|it is|"
    r"this is|call me|name:)\s+",
    "company": r"(?:i work (?:at|for)|we are|we're|it's|it is|company is|"
    r"the company is|at|from)\s+",
    "job_title": r"(?:i am|i'm|im|i work as|my title is|my role is|as)\s+"
    r"(?:(?:a|an|the)\s+)?",
}


def strip_prefix(field: str, value: str) -> str:
    """Drop a leading "my name is", "I work at" and the like."""
    pattern = _PREFIXES.get(field)
    if not pattern:
        return value
    return re.sub(r"^\s*" + pattern, "", value, count=1, flags=re.IGNORECASE)


def band_buttons(group: str) -> list[dict[str, str]]:
    """Return the buttons of a band question (payload = the band key)."""
    return [
        {"title": texts.BAND_TITLES.get(choice, choice), "payload": choice}
        for choice in default_rules().band_choices(group)
    ]


class ActionAskField(Action, ABC):
    """Ask for one field of the lead form (band questions get buttons)."""

    @property
    @abstractmethod
    def field(self) -> str:
        """The form field this action asks for."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return f"action_ask_{self.field}"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """Ask the question."""
        buttons = band_buttons(self.field) if self.field in BAND_PARSERS else []
        dispatcher.utter_message(text=texts.QUESTIONS[self.field], buttons=buttons)
        return []


class ActionAskName(ActionAskField):
    """Ask for the visitor's name."""

    field = "name"


class ActionAskEmail(ActionAskField):
    """Ask for the work email."""

    field = "email"


class ActionAskCompany(ActionAskField):
    """Ask for the company."""

    field = "company"


class ActionAskJobTitle(ActionAskField):
    """Ask for the job title."""

    field = "job_title"


class ActionAskCompanySize(ActionAskField):
    """Ask for the company size band."""

    field = "company_size"


class ActionAskNeed(ActionAskField):
    """Ask what the visitor needs."""

    field = "need"


class ActionAskTimeline(ActionAskField):
    """Ask for the timeline band."""

    field = "timeline"


class ActionAskBudget(ActionAskField):
    """Ask for the budget band."""

    field = "budget"


class ActionAskPhone(ActionAskField):
    """Ask for the optional phone number."""

    field = "phone"


def _correction(tracker: Tracker) -> Correction | None:
    if latest_intent(tracker) != "correct":
        return None
    return parse_correction(
        without_placeholders(latest_text(tracker)), entity_value(tracker, "field")
    )


class ValidateLeadForm(FormValidationAction):
    """Extract corrections and validate every field of the lead form."""

    def name(self) -> str:
        """Return the action's name in the domain."""
        return "validate_lead_form"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """Validate; tell the visitor about removed numbers and unclear fixes."""
        kinds = redacted_kinds(tracker)
        if kinds and latest_intent(tracker) != "share_sensitive":
            dispatcher.utter_message(text=texts.sensitive_removed(describe(kinds)))
        events: list[dict[str, Any]] = await super().run(dispatcher, tracker, domain)
        if latest_intent(tracker) == "correct" and _correction(tracker) is None:
            dispatcher.utter_message(text=texts.CORRECTION_UNCLEAR)
            requested = tracker.get_slot("requested_slot")
            if requested and not any(e.get("name") == requested for e in events):
                events.append(SlotSet(requested, tracker.get_slot(requested)))
        return events

    # -- corrections --------------------------------------------------------

    def _extract_correction(self, field: str, tracker: Tracker) -> dict[str, Any]:
        correction = _correction(tracker)
        if correction is None or correction.field != field:
            return {}
        return {field: correction.value}

    async def extract_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Take a corrected name."""
        return self._extract_correction("name", tracker)

    async def extract_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Take a corrected email address."""
        return self._extract_correction("email", tracker)

    async def extract_company(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Take a corrected company."""
        return self._extract_correction("company", tracker)

    async def extract_job_title(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Take a corrected job title."""
        return self._extract_correction("job_title", tracker)

    async def extract_need(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Take a corrected need."""
        return self._extract_correction("need", tracker)

    async def extract_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Take a corrected phone number."""
        return self._extract_correction("phone", tracker)

    # -- validation ---------------------------------------------------------

    def _updated(
        self, field: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> None:
        """Confirm a correction of a field that already had a value."""
        if latest_intent(tracker) == "correct" and value_before_latest_message(
            tracker, field
        ):
            dispatcher.utter_message(text=texts.UPDATED)

    def _text_field(
        self,
        field: str,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
    ) -> dict[str, Any]:
        try:
            cleaned = clean_text(
                field, strip_prefix(field, without_placeholders(str(value or "")))
            )
        except InvalidInputError:
            dispatcher.utter_message(text=texts.INVALID[field])
            return {field: None}
        self._updated(field, dispatcher, tracker)
        return {field: cleaned}

    async def validate_name(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Accept a non-empty name of up to 120 characters."""
        return self._text_field("name", value, dispatcher, tracker)

    async def validate_company(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Accept a non-empty company name."""
        return self._text_field("company", value, dispatcher, tracker)

    async def validate_job_title(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Accept a non-empty job title."""
        return self._text_field("job_title", value, dispatcher, tracker)

    async def validate_need(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Accept a short free-text need (up to 500 characters)."""
        return self._text_field("need", value, dispatcher, tracker)

    async def validate_email(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Accept a valid address; question a free-mail one once.

        The address is checked with email-validator (syntax, no DNS) and
        normalised the way the vault's blind index does.
        """
        offered = tracker.get_slot("freemail_offered")
        candidate = find_email(str(value or ""))
        if candidate is None and offered and latest_intent(tracker) == "affirm":
            candidate = str(offered)
        if candidate is None:
            dispatcher.utter_message(text=texts.INVALID["email"])
            return {"email": None}
        try:
            address = normalise_email(candidate)
        except InvalidInputError:
            dispatcher.utter_message(text=texts.INVALID["email"])
            return {"email": None}
        if is_free_mail(address) and address != offered:
            dispatcher.utter_message(
                text=texts.FREE_MAIL,
                buttons=[{"title": "Yes, use this address", "payload": "/affirm"}],
            )
            return {"email": None, "freemail_offered": address}
        self._updated("email", dispatcher, tracker)
        return {"email": address, "freemail_offered": None}

    async def validate_phone(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Accept a valid number (Malaysia by default) in E.164, or a skip."""
        if value == PHONE_SKIPPED:
            return {"phone": PHONE_SKIPPED}
        try:
            phone = normalise_phone(without_placeholders(str(value or "")))
        except InvalidInputError:
            dispatcher.utter_message(text=texts.INVALID["phone"])
            return {"phone": None}
        self._updated("phone", dispatcher, tracker)
        return {"phone": phone}

    def _band(
        self, group: str, value: Any, dispatcher: CollectingDispatcher
    ) -> dict[str, Any]:
        choices = default_rules().band_choices(group)
        band = BAND_PARSERS[group](without_placeholders(str(value or "")), choices)
        if band is None:
            dispatcher.utter_message(text=texts.INVALID[group])
        return {group: band}

    async def validate_company_size(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Map the answer to a company size band."""
        return self._band("company_size", value, dispatcher)

    async def validate_timeline(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Map the answer to a timeline band."""
        return self._band("timeline", value, dispatcher)

    async def validate_budget(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        """Map the answer to a budget band."""
        return self._band("budget", value, dispatcher)
