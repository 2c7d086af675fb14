"""The data map: every column of every table, what it holds and why.

This is the record of processing activities (GDPR Art. 30; PDPA notice and
choice, retention and security principles) kept in code, next to the
models, so it cannot drift silently: ``tests/privacy/test_data_map.py``
fails when any table of any model module gains a column the map does not
classify, when a binary column is not classified as sealed, hashed or key
material, or when a column whose name looks personal (email, name, phone,
body...) is classified as holding nothing personal without a reason.

``leadguard privacy records`` renders it as Markdown
(:func:`render_records_markdown`).

Limits: the map describes what the code stores; it cannot see a value put
into the wrong column (the canary tests and the erasure's deep scan do).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import LargeBinary, Table

from leads.settings import Settings

__all__ = [
    "DATA_MAP",
    "OUTSIDE_STORES",
    "Category",
    "StoreRecord",
    "TableRecord",
    "looks_personal",
    "map_problems",
    "render_records_markdown",
]


class Category(enum.StrEnum):
    """What a column holds, from the data subject's point of view."""

    SEALED = "sealed personal data"
    BLIND_INDEX = "blind index of an email address"
    KEYED_HASH = "keyed or one-way hash of a secret"
    KEY_MATERIAL = "wrapped key or key check"
    SUBJECT_ID = "pseudonymous id of a person"
    PROFILE = "attribute of a person (not identifying)"
    CONSENT = "consent evidence"
    TECHNICAL = "technical (ids, states, times, counts)"


BINARY_CATEGORIES = frozenset(
    {Category.SEALED, Category.BLIND_INDEX, Category.KEYED_HASH, Category.KEY_MATERIAL}
)
PERSONAL_NAME_PARTS = frozenset(
    {
        "email",
        "name",
        "phone",
        "address",
        "ip",
        "agent",
        "body",
        "note",
        "company",
        "title",
        "need",
        "text",
    }
)

# Retention kinds -> the setting that holds the period, or a fixed rule.
RETENTION_RULES: Mapping[str, str] = {
    "unqualified_leads": "retention_unqualified_leads_days",
    "transcripts": "transcript_retention_days",
    "email_records": "retention_email_records_days",
    "audit_log": "retention_audit_log_days",
    "lead": "until erasure, withdrawal of sales consent, or (unqualified) "
    "retention_unqualified_leads_days",
    "staff": "while the account exists; removed with the account",
    "session": "console_session_hours, then deleted at sign-in or sign-out",
    "token": "until used or expired (selfservice_link_minutes)",
    "legal": "kept: evidence that a request or suppression was honoured; "
    "holds no recoverable personal data",
    "keys": "while the key ring version exists",
}


@dataclass(frozen=True)
class TableRecord:
    """One table of the record of processing.

    ``columns`` maps each column to its category; ``reasons`` explains a
    column whose name looks personal but whose content is not.
    """

    table: str
    subjects: str
    purpose: str
    legal_basis: str
    retention: str
    recipients: str
    columns: Mapping[str, Category]
    reasons: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StoreRecord:
    """A store outside the database that holds personal data."""

    name: str
    holds: str
    purpose: str
    retention: str
    recipients: str
    erasure: str


C = Category
LEAD_PURPOSE = "Qualify a B2B enquiry and let sales contact the lead"
CONSENT_BASIS = "Consent (GDPR Art. 6(1)(a); PDPA s.6), recorded in the ledger"
SALES = "Sales team in the console, each reveal audited"
NOBODY = "None outside leadguard's operators"
LEGAL_BASIS = "Legal obligation (GDPR Art. 6(1)(c); PDPA s.6(2)(c))"
STAFF_BASIS = "Legitimate interest: securing access to personal data"

DATA_MAP: tuple[TableRecord, ...] = (
    TableRecord(
        "leads",
        "leads",
        LEAD_PURPOSE,
        CONSENT_BASIS,
        "lead",
        SALES,
        {
            "id": C.SUBJECT_ID,
            "status": C.PROFILE,
            "tier": C.PROFILE,
            "score": C.PROFILE,
            "source": C.TECHNICAL,
            "owner_id": C.SUBJECT_ID,
            "email_index": C.BLIND_INDEX,
            "company_size": C.PROFILE,
            "timeline": C.PROFILE,
            "budget": C.PROFILE,
            "time_zone": C.PROFILE,
            "created_at": C.TECHNICAL,
            "updated_at": C.TECHNICAL,
            "qualified_at": C.TECHNICAL,
        },
        {"company_size": "a size band (e.g. 51-200), not the company"},
    ),
    TableRecord(
        "lead_personal",
        "leads",
        LEAD_PURPOSE,
        CONSENT_BASIS,
        "lead",
        SALES,
        {
            "lead_id": C.SUBJECT_ID,
            "name": C.SEALED,
            "email": C.SEALED,
            "phone": C.SEALED,
            "company": C.SEALED,
            "job_title": C.SEALED,
            "need": C.SEALED,
        },
    ),
    TableRecord(
        "subject_keys",
        "leads",
        "Per-subject data key; deleting it is crypto-shredding",
        CONSENT_BASIS,
        "lead",
        NOBODY,
        {
            "subject_id": C.SUBJECT_ID,
            "kek_version": C.TECHNICAL,
            "key_version": C.TECHNICAL,
            "wrapped_key": C.KEY_MATERIAL,
            "created_at": C.TECHNICAL,
            "rewrapped_at": C.TECHNICAL,
        },
    ),
    TableRecord(
        "key_checks",
        "none",
        "Detect a wrong key ring before touching data",
        "Security of processing (GDPR Art. 32; PDPA s.9)",
        "keys",
        NOBODY,
        {"name": C.TECHNICAL, "value": C.KEY_MATERIAL},
        {"name": "the name of a key version (kek:1, root), not a person"},
    ),
    TableRecord(
        "lead_chat_sessions",
        "leads",
        "Link chat sessions to the lead, so erasure and access reach them",
        CONSENT_BASIS,
        "lead",
        NOBODY,
        {
            "id": C.TECHNICAL,
            "lead_id": C.SUBJECT_ID,
            "chat_session_id": C.SUBJECT_ID,
            "created_at": C.TECHNICAL,
        },
    ),
    TableRecord(
        "consent_records",
        "leads and chat visitors",
        "Prove what each person agreed to, and when",
        LEGAL_BASIS,
        "lead",
        "Privacy officer; the subject on request",
        {
            "id": C.TECHNICAL,
            "subject_id": C.SUBJECT_ID,
            "chat_session_id": C.SUBJECT_ID,
            "purpose": C.CONSENT,
            "granted": C.CONSENT,
            "notice_version": C.CONSENT,
            "notice_sha256": C.CONSENT,
            "channel": C.CONSENT,
            "recorded_at": C.CONSENT,
        },
    ),
    TableRecord(
        "audit_events",
        "leads and staff (by id)",
        "Accountability: every reveal, export and erasure",
        LEGAL_BASIS,
        "audit_log",
        "Privacy officer; the regulator after a breach",
        {
            "id": C.TECHNICAL,
            "occurred_at": C.TECHNICAL,
            "actor": C.SUBJECT_ID,
            "action": C.TECHNICAL,
            "target_id": C.SUBJECT_ID,
            "prev_hash": C.TECHNICAL,
            "hash": C.TECHNICAL,
        },
    ),
    TableRecord(
        "outbox_events",
        "leads (by id)",
        "Hand a qualified lead to the nurture worker",
        CONSENT_BASIS,
        "lead",
        NOBODY,
        {
            "id": C.TECHNICAL,
            "topic": C.TECHNICAL,
            "aggregate_id": C.SUBJECT_ID,
            "payload": C.PROFILE,
            "created_at": C.TECHNICAL,
            "processed_at": C.TECHNICAL,
        },
    ),
    TableRecord(
        "suppressions",
        "former leads (blind index only)",
        "Never email an address that unsubscribed or was erased",
        LEGAL_BASIS,
        "legal",
        NOBODY,
        {
            "id": C.TECHNICAL,
            "email_index": C.BLIND_INDEX,
            "reason": C.TECHNICAL,
            "created_at": C.TECHNICAL,
        },
    ),
    TableRecord(
        "callback_requests",
        "leads and chat visitors",
        "A visitor asked for a human to call back",
        CONSENT_BASIS,
        "lead",
        SALES,
        {
            "id": C.TECHNICAL,
            "lead_id": C.SUBJECT_ID,
            "chat_session_id": C.SUBJECT_ID,
            "status": C.TECHNICAL,
            "created_at": C.TECHNICAL,
        },
    ),
    TableRecord(
        "privacy_requests",
        "leads and chat visitors (by id)",
        "Track access and erasure requests to completion",
        LEGAL_BASIS,
        "legal",
        "Privacy officer",
        {
            "id": C.TECHNICAL,
            "kind": C.TECHNICAL,
            "status": C.TECHNICAL,
            "channel": C.TECHNICAL,
            "lead_id": C.SUBJECT_ID,
            "chat_session_id": C.SUBJECT_ID,
            "created_at": C.TECHNICAL,
            "completed_at": C.TECHNICAL,
        },
    ),
    TableRecord(
        "erasure_jobs",
        "former leads (by id)",
        "Finish an erasure interrupted half-way; prove it completed",
        LEGAL_BASIS,
        "legal",
        "Privacy officer",
        {
            "id": C.TECHNICAL,
            "lead_id": C.SUBJECT_ID,
            "email_index": C.BLIND_INDEX,
            "status": C.TECHNICAL,
            "channel": C.TECHNICAL,
            "actor": C.SUBJECT_ID,
            "attempts": C.TECHNICAL,
            "removed": C.TECHNICAL,
            "started_at": C.TECHNICAL,
            "completed_at": C.TECHNICAL,
        },
    ),
    TableRecord(
        "nurture_enrollments",
        "leads (by id)",
        "Follow-up email sequences a lead consented to",
        CONSENT_BASIS,
        "email_records",
        NOBODY,
        {
            "id": C.TECHNICAL,
            "lead_id": C.SUBJECT_ID,
            "sequence": C.PROFILE,
            "state": C.TECHNICAL,
            "next_step": C.TECHNICAL,
            "next_due_at": C.TECHNICAL,
            "status_at_enrollment": C.PROFILE,
            "stop_reason": C.TECHNICAL,
            "created_at": C.TECHNICAL,
            "updated_at": C.TECHNICAL,
        },
    ),
    TableRecord(
        "nurture_sends",
        "leads (by id)",
        "One record per email step, so no email is sent twice",
        CONSENT_BASIS,
        "email_records",
        "SMTP relay (address and content, at send time only)",
        {
            "id": C.TECHNICAL,
            "enrollment_id": C.TECHNICAL,
            "lead_id": C.SUBJECT_ID,
            "step": C.TECHNICAL,
            "message_id": C.TECHNICAL,
            "state": C.TECHNICAL,
            "attempts": C.TECHNICAL,
            "due_at": C.TECHNICAL,
            "dispatched_at": C.TECHNICAL,
            "last_code": C.TECHNICAL,
            "created_at": C.TECHNICAL,
            "sent_at": C.TECHNICAL,
        },
    ),
    TableRecord(
        "lead_notes",
        "leads",
        "Sales team's notes on a lead",
        CONSENT_BASIS,
        "lead",
        SALES,
        {
            "id": C.TECHNICAL,
            "lead_id": C.SUBJECT_ID,
            "author_id": C.SUBJECT_ID,
            "body_sealed": C.SEALED,
            "created_at": C.TECHNICAL,
        },
    ),
    TableRecord(
        "console_users",
        "staff",
        "Sign-in to the console with MFA and roles",
        STAFF_BASIS,
        "staff",
        NOBODY,
        {
            "id": C.SUBJECT_ID,
            "email_index": C.BLIND_INDEX,
            "email_sealed": C.SEALED,
            "role": C.PROFILE,
            "password_hash": C.KEYED_HASH,
            "totp_sealed": C.SEALED,
            "totp_confirmed": C.TECHNICAL,
            "totp_last_step": C.TECHNICAL,
            "setup_token_hash": C.KEYED_HASH,
            "setup_expires_at": C.TECHNICAL,
            "disabled": C.TECHNICAL,
            "failed_attempts": C.TECHNICAL,
            "locked_until": C.TECHNICAL,
            "created_at": C.TECHNICAL,
            "last_sign_in_at": C.PROFILE,
        },
    ),
    TableRecord(
        "console_sessions",
        "staff",
        "Server-side console sessions",
        STAFF_BASIS,
        "session",
        NOBODY,
        {
            "id_hash": C.KEYED_HASH,
            "user_id": C.SUBJECT_ID,
            "stage": C.TECHNICAL,
            "created_at": C.TECHNICAL,
            "last_seen_at": C.TECHNICAL,
            "mfa_verified_at": C.TECHNICAL,
        },
    ),
    TableRecord(
        "console_recovery_codes",
        "staff",
        "Single-use MFA recovery codes",
        STAFF_BASIS,
        "staff",
        NOBODY,
        {
            "id": C.TECHNICAL,
            "user_id": C.SUBJECT_ID,
            "code_hash": C.KEYED_HASH,
            "used_at": C.TECHNICAL,
        },
    ),
    TableRecord(
        "selfservice_tokens",
        "leads (by id)",
        "Single-use links proving a visitor controls the address",
        LEGAL_BASIS,
        "token",
        NOBODY,
        {
            "id": C.TECHNICAL,
            "token_hash": C.KEYED_HASH,
            "kind": C.TECHNICAL,
            "lead_id": C.SUBJECT_ID,
            "privacy_request_id": C.TECHNICAL,
            "created_at": C.TECHNICAL,
            "expires_at": C.TECHNICAL,
            "used_at": C.TECHNICAL,
        },
    ),
)

OUTSIDE_STORES: tuple[StoreRecord, ...] = (
    StoreRecord(
        "Tracker store (leadguard_transcripts)",
        "Chat transcripts, encrypted (AES-256-GCM), keyed by an HMAC of the session id",
        "Let the assistant hold a conversation; show it on access requests",
        "transcripts",
        NOBODY,
        "Deleted by session id (erasure) and by age (retention)",
    ),
    StoreRecord(
        "Development mail folder (var/mail/*.eml)",
        "Plaintext copies of emails sent (development only)",
        "Let developers see what would be sent",
        "email_records",
        "Developers on the machine",
        "Files addressed to the subject are deleted (matched by blind index)",
    ),
    StoreRecord(
        "SMTP relay (production)",
        "Recipient address and message content while in transit",
        "Deliver follow-up and transactional email",
        "the relay provider's own retention",
        "The relay provider (processor under contract)",
        "Out of reach: covered by the processor contract",
    ),
    StoreRecord(
        "Redis / broker",
        "Locks and task messages carrying ids only",
        "Coordinate workers and the Rasa lock store",
        "seconds to hours (until processed)",
        NOBODY,
        "Keys naming the lead id or a chat session id are deleted",
    ),
    StoreRecord(
        "Logs",
        "Event names, ids and counts; never personal values (tested)",
        "Operate and debug the service",
        "the log platform's retention",
        "Operators",
        "Nothing to erase: no personal values are logged",
    ),
)


def looks_personal(column: str) -> bool:
    """Whether a column's name suggests it holds personal data."""
    return bool(set(re.split(r"[_\W]+", column.lower())) & PERSONAL_NAME_PARTS)


def map_problems(tables: Iterable[Table]) -> list[str]:
    """Check the data map against the schema; return each problem found.

    A problem is a table or column the map lacks or names in vain, a binary
    column not classified as sealed, hashed or key material, a sealed
    column that is not binary, or a personal-looking column classified as
    technical or profile data without a reason.
    """
    problems = []
    known = {t.name for t in tables}
    for listed in DATA_MAP:
        if listed.table not in known:
            problems.append(f"{listed.table}: in the data map but not a table")
    for table in tables:
        record = record_for(table.name)
        if record is None:
            problems.append(f"{table.name}: table missing from the data map")
            continue
        for name in record.columns:
            if name not in table.c:
                problems.append(f"{table.name}.{name}: in the data map, no column")
        for column in table.columns:
            where = f"{table.name}.{column.name}"
            category = record.columns.get(column.name)
            binary = isinstance(column.type, LargeBinary)
            if category is None:
                problems.append(f"{where}: column missing from the data map")
            elif binary and category not in BINARY_CATEGORIES:
                problems.append(f"{where}: binary column must be sealed or hashed")
            elif category is Category.SEALED and not binary:
                problems.append(f"{where}: classified sealed but not binary")
            elif (
                category in (Category.TECHNICAL, Category.PROFILE)
                and looks_personal(column.name)
                and column.name not in record.reasons
            ):
                problems.append(f"{where}: looks personal; classify it or say why")
    return problems


def record_for(table: str) -> TableRecord | None:
    """Return the data map's record of ``table``, if it has one."""
    return next((r for r in DATA_MAP if r.table == table), None)


def retention_text(kind: str, settings: Settings | None = None) -> str:
    """Describe a retention kind, with its period when it is a setting."""
    rule = RETENTION_RULES.get(kind, kind)
    if settings is not None and hasattr(settings, rule):
        return f"{getattr(settings, rule)} days (LEADGUARD_{rule.upper()})"
    return rule


def _row(*cells: str) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def render_records_markdown(settings: Settings | None = None) -> str:
    """Render the record of processing activities as Markdown."""
    lines = [
        "# Record of processing activities",
        "",
        "Controller: the organisation operating leadguard. Generated from "
        "`leads/data_map.py`; every column of every table is classified.",
        "",
        "## Tables",
    ]
    for record in sorted(DATA_MAP, key=lambda r: r.table):
        lines += [
            "",
            f"### `{record.table}`",
            "",
            f"- Data subjects: {record.subjects}",
            f"- Purpose: {record.purpose}",
            f"- Legal basis: {record.legal_basis}",
            f"- Retention: {retention_text(record.retention, settings)}",
            f"- Recipients: {record.recipients}",
            "",
            _row("column", "category", "note"),
            _row("---", "---", "---"),
        ]
        for column, category in record.columns.items():
            lines.append(
                _row(f"`{column}`", category.value, record.reasons.get(column, ""))
            )
    lines += [
        "",
        "## Retention periods",
        "",
        _row("kind", "period"),
        _row("---", "---"),
    ]
    for kind in ("unqualified_leads", "transcripts", "email_records", "audit_log"):
        lines.append(_row(kind.replace("_", " "), retention_text(kind, settings)))
    lines += [
        "",
        "## Stores outside the database",
        "",
        _row("store", "holds", "purpose", "retention", "recipients", "erasure"),
        _row("---", "---", "---", "---", "---", "---"),
    ]
    for store in OUTSIDE_STORES:
        lines.append(
            _row(
                store.name,
                store.holds,
                store.purpose,
                retention_text(store.retention, settings),
                store.recipients,
                store.erasure,
            )
        )
    lines += [
        "",
        "## Security measures",
        "",
        "- Personal fields sealed with AES-256-GCM under a per-subject data "
        "key, bound to table, column, row and key version.",
        "- Email lookups through a keyed blind index; no decrypt-and-scan.",
        "- Erasure destroys the data key and deletes every linked row, "
        "transcript and mail file; an audit event records it.",
        "- Every reveal, export and erasure is in a hash-chained audit log.",
        "",
    ]
    return "\n".join(lines)
