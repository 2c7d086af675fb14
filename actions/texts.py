"""What the assistant says from the action server, kept in one place.

Texts are plain English constants or small functions; none of them ever
contains a value the visitor typed.
"""

from __future__ import annotations

from leads.notices import Notice

ASSISTANT_PURPOSE = (
    "Hello! I'm an automated assistant, not a person. I can answer questions "
    "about how we handle your data and, if you wish, pass your enquiry to our "
    "sales team."
)
WHAT_NEXT = "How can I help?"
START_BUTTON = {"title": "Discuss my needs", "payload": "/start_enquiry"}
PRIVACY_BUTTON = {"title": "What data do you keep?", "payload": "/ask_privacy"}
HUMAN_BUTTON = {"title": "Talk to a human", "payload": "/request_human"}

CONSENT_SALES = (
    "Before I ask anything personal: may our sales team contact you about "
    "your enquiry? You can change your mind at any time."
)
CONSENT_EMAIL = (
    "And may we send you a short series of follow-up emails? Every email has "
    "a one-click unsubscribe link."
)
YES_NO_BUTTONS = [
    {"title": "Yes", "payload": "/affirm"},
    {"title": "No", "payload": "/deny"},
]
CONSENT_NONE = (
    "Understood: I won't ask for or keep any personal details. You can still "
    'ask me general questions, and say "continue" if you change your mind.'
)
CONSENT_SALES_ONLY = (
    "Thank you. Our sales team may contact you; we won't send follow-up emails."
)
CONSENT_EMAIL_ONLY = (
    "Thank you. We'll send follow-up emails only; nobody from sales will call."
)
CONSENT_BOTH = "Thank you. I'll ask a few short questions about your enquiry."

QUESTIONS = {
    "name": "What is your name?",
    "email": "What is your work email address?",
    "company": "Which company do you work for?",
    "job_title": "What is your job title?",
    "company_size": "How many people work at your company?",
    "need": "In a sentence or two, what do you need help with?",
    "timeline": "When are you hoping to get started?",
    "budget": "Roughly what budget do you have in mind (in RM)?",
    "phone": (
        "If you'd like a call, what is your phone number? This one is "
        'optional: say "skip" to leave it out.'
    ),
}
BAND_TITLES = {
    "1-10": "1-10",
    "11-50": "11-50",
    "51-200": "51-200",
    "201-1000": "201-1,000",
    "1000+": "More than 1,000",
    "this_month": "This month",
    "this_quarter": "This quarter",
    "this_year": "This year",
    "exploring": "Just exploring",
    "under_10k": "Under RM 10k",
    "10k_50k": "RM 10k-50k",
    "50k_200k": "RM 50k-200k",
    "over_200k": "Over RM 200k",
}

WHY = {
    "consent_sales": (
        "I ask before collecting anything, as the law requires: without your "
        "yes, nobody will contact you and I keep no personal details."
    ),
    "consent_email": (
        "Follow-up emails are a separate choice from being contacted by "
        "sales, so you can agree to one and not the other."
    ),
    "name": "So that whoever contacts you knows how to address you.",
    "email": (
        "It is how our team will reply to your enquiry. A work address helps "
        "them understand which company you are with."
    ),
    "company": "To understand your organisation and route you to the right team.",
    "job_title": "To know what role you play, so we send the right person.",
    "company_size": "Our offers differ by company size; a band is enough.",
    "need": "So the person who contacts you comes prepared.",
    "timeline": "To prioritise enquiries that are more urgent.",
    "budget": "To suggest options that fit; a rough band is enough.",
    "phone": (
        'Only if you\'d like a phone call. It is optional: say "skip" and '
        "we'll use email."
    ),
}
WHY_GENERAL = (
    "I only ask for what qualifies an enquiry: name, work email, company, "
    "job title, company size, your need, timeline and budget band (phone is "
    "optional). Nothing is collected without your consent."
)

FREE_MAIL = (
    "That looks like a personal address. A work email helps our team know "
    "which company you're with. If you'd rather use this one, just send it "
    "again or say yes."
)
INVALID = {
    "name": "Please tell me your name (up to 120 characters).",
    "email": "That doesn't look like an email address. Could you check it?",
    "company": "Please tell me your company's name.",
    "job_title": "Please tell me your job title.",
    "company_size": "Please pick one of the options (or type roughly how many people).",
    "need": "Please describe your need in a sentence or two (up to 500 characters).",
    "timeline": "Please pick one of the options.",
    "budget": "Please pick one of the options (or type a rough amount in RM).",
    "phone": (
        'That doesn\'t look like a phone number. Try e.g. 012-345 6789, or say "skip".'
    ),
}
UPDATED = "Thanks, I've updated that."
CORRECTION_UNCLEAR = (
    'Which detail should I change? For example: "my email is ..." or '
    '"my company is ...".'
)
SKIPPED = "No problem, I've left that out."
REQUIRED = (
    'I need this one to pass your enquiry on. You can say "stop" at any '
    'time, or "why" to know what it\'s for.'
)
NOTHING_TO_SKIP = "There's no question to skip right now."
STOPPED = (
    'OK, I\'ve stopped. Nothing has been passed to our team. Say "continue" '
    'to pick up where we left off, or "delete my data" to remove what you '
    "typed."
)
NOTHING_TO_STOP = "OK. Is there anything else I can help with?"
SUBMITTED = (
    "Thank you! I've passed your enquiry to our team. I don't keep your "
    "details in this chat any longer."
)
SUBMIT_FAILED = (
    "Sorry, something went wrong and I couldn't pass your enquiry on. Please "
    'try again in a moment, or say "talk to a human".'
)
HUMAN_REQUESTED = "I've asked a colleague from our sales team to get in touch with you."
HUMAN_NEEDS_DETAILS = (
    " They will join this chat if they can; if you'd like them to contact "
    'you later, say "continue" to leave your details.'
)
ERASURE_RECORDED = (
    "I've recorded your request to delete your data (reference {reference}). "
    "I've also cleared what you typed in this form. Our privacy team "
    "completes erasure within the time the law allows and confirms it."
)
GENERIC_ERROR = "Sorry, something went wrong on my side. Please try again in a moment."


def sensitive_removed(phrase: str) -> str:
    """Tell the visitor which kind of number was removed from their message."""
    return (
        f"I removed {phrase} from your message. Please don't share card, "
        "MyKad, passport or bank account numbers here: we never need them "
        "and never keep them."
    )


def notice_line(notice: Notice, url: str) -> str:
    """The line linking the privacy notice, naming its version."""
    return f"Our privacy notice (version {notice.version}): {url}"


def privacy_summary(notice: Notice, url: str, retention_days: int) -> str:
    """The answer to "what data do you keep and why"."""
    return (
        "With your consent we keep only your name, work email, company, job "
        "title, company size, need, timeline and budget band (and a phone "
        "number if you give one), encrypted, to answer your enquiry and, if "
        "you agree, to send follow-up emails. We never keep card, MyKad, "
        "passport or bank account numbers. Chat transcripts are deleted "
        f"after {retention_days} days. You can ask for a copy or for deletion "
        'at any time (say "delete my data"). ' + notice_line(notice, url)
    )
